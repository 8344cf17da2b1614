"""Throttling: recent events per key (an account, an e-mail address, a client address) in the
`attempts` table, and how long a key must wait. The one mechanism behind the limits on signing
in, asking for and using reset links, accepting invitations, inviting and saving."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kb.errors import TooManyRequestsError

KEEP_SECONDS = 86_400  # no limit counts further back than a day


@dataclass(frozen=True)
class Limit:
    """At most `most` events of `key` within `window` seconds.

    With `lockout` 0 the key waits until its oldest counted event leaves the window (a steady
    rate: "3 an hour"). With a lockout, each event past the limit makes it wait `lockout`
    seconds from that event (slow for a guesser, never a permanent lock: sign-in).
    """

    key: str
    most: int
    window: float
    lockout: float = 0.0


def wait_for(conn: sqlite3.Connection, limit: Limit, now: float) -> float:
    """Seconds before `limit.key` may act again (0 when it may now)."""
    rows = conn.execute("SELECT at FROM attempts WHERE key=? AND at>? ORDER BY at DESC LIMIT ?",
                        (limit.key, now - limit.window, limit.most)).fetchall()
    if len(rows) < limit.most:
        return 0.0
    until = rows[0][0] + limit.lockout if limit.lockout else rows[-1][0] + limit.window
    return max(0.0, until - now)


def check(conn: sqlite3.Connection, limits: list[Limit], now: float, message: str) -> None:
    """Raise TooManyRequestsError ("... try again in N minutes", with the seconds for the
    Retry-After header) when any of the limits is reached."""
    wait = max((wait_for(conn, limit, now) for limit in limits), default=0.0)
    if wait > 0:
        seconds = int(wait) + 1
        raise TooManyRequestsError(f"{message}; try again in {in_words(seconds)}", seconds)


def record(conn: sqlite3.Connection, keys: list[str], now: float) -> None:
    """Count one event for each key (inside the caller's write transaction); rows older than
    any limit looks at are dropped on the way."""
    conn.executemany("INSERT INTO attempts (key, at) VALUES (?, ?)", [(k, now) for k in keys])
    conn.execute("DELETE FROM attempts WHERE at<?", (now - KEEP_SECONDS,))


def clear(conn: sqlite3.Connection, keys: list[str]) -> None:
    """Forget a key's events (after a success that proves who it is)."""
    conn.executemany("DELETE FROM attempts WHERE key=?", [(k,) for k in keys])


def in_words(seconds: int) -> str:
    """A wait in plain words: 40 seconds, 5 minutes, an hour."""
    if seconds < 90:
        return f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return "an hour" if 55 <= minutes <= 60 else f"{minutes} minutes"
