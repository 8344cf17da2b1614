"""Followed searches: a query and filters (a subject, an intervention, a family ...) whose new
and updated write-ups a person receives in a weekly digest e-mail."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from kb.errors import BadInputError, ConflictError, NotFoundError
from kb.state import audit
from kb.state.accounts import User
from kb.state.database import StateStore

MAX_FOLLOWS = 20


@dataclass(frozen=True)
class Follow:
    id: int
    user_id: int
    query: str
    filters: dict[str, tuple[str, ...]]
    created_at: float
    last_sent_at: float


def _follow(row: tuple) -> Follow:  # type: ignore[type-arg]
    filters = {k: tuple(v) for k, v in json.loads(row[3]).items()}
    return Follow(row[0], row[1], row[2], filters, row[4], row[5])


def add_follow(store: StateStore, user: User, query: str,
               filters: dict[str, tuple[str, ...]], now: float | None = None) -> Follow:
    """Follow a search; its first digest covers the week before it was saved."""
    query = " ".join(query.split())[:300]
    if not query and not any(filters.values()):
        raise BadInputError("choose words or at least one filter (a subject, an intervention, "
                            "a family ...) to follow")
    canonical = json.dumps({k: sorted(v) for k, v in sorted(filters.items()) if v})
    now = time.time() if now is None else now
    with store.write() as conn:
        count = conn.execute("SELECT count(*) FROM follows WHERE user_id=?",
                             (user.id,)).fetchone()[0]
        if count >= MAX_FOLLOWS:
            raise BadInputError(f"you follow {MAX_FOLLOWS} searches already; remove one first")
        try:
            cur = conn.execute("INSERT INTO follows (user_id, query, filters, created_at, "
                               "last_sent_at) VALUES (?,?,?,?,?)",
                               (user.id, query, canonical, now, now - 7 * 86_400))
        except sqlite3.IntegrityError:
            raise ConflictError("you follow this search already") from None
        audit.record(conn, user.email, "follow.add", f"user:{user.email}",
                     f"{query!r} {canonical}")
        row = conn.execute("SELECT id, user_id, query, filters, created_at, last_sent_at "
                           "FROM follows WHERE id=?", (cur.lastrowid,)).fetchone()
    return _follow(row)


def follows_of(store: StateStore, user: User) -> list[Follow]:
    with store.read() as conn:
        rows = conn.execute("SELECT id, user_id, query, filters, created_at, last_sent_at "
                            "FROM follows WHERE user_id=? ORDER BY id", (user.id,)).fetchall()
    return [_follow(r) for r in rows]


def remove_follow(store: StateStore, user: User, follow_id: int) -> None:
    with store.write() as conn:
        cur = conn.execute("DELETE FROM follows WHERE id=? AND user_id=?", (follow_id, user.id))
        if cur.rowcount != 1:
            raise NotFoundError(f"you follow no search {follow_id}")
        audit.record(conn, user.email, "follow.remove", f"user:{user.email}", str(follow_id))


@dataclass(frozen=True)
class Follower:
    """Someone due a digest: their address and the searches they follow."""

    id: int
    email: str
    name: str
    follows: list[Follow]


def due_before(now: float, every_days: int = 7) -> float:
    """The moment a followed search must have been covered before to be due again (a minute
    of slack, so a digest run at the same time each week always finds last week's due)."""
    return now - every_days * 86_400 + 60


def due_digests(store: StateStore, before: float) -> list[Follower]:
    """Enabled people with a followed search last covered before `before`, who have not
    turned the digest off."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT u.id, u.email, u.name, u.mail_opt_out, f.id, f.user_id, f.query, f.filters, "
            "f.created_at, f.last_sent_at FROM follows f JOIN users u ON u.id=f.user_id "
            "WHERE u.disabled=0 AND f.last_sent_at<=? ORDER BY u.id, f.id",
            (before,)).fetchall()
    people: dict[int, Follower] = {}
    for row in rows:
        if "digest" in row[3].split(","):
            continue
        person = people.setdefault(row[0], Follower(row[0], row[1], row[2], []))
        person.follows.append(_follow(row[4:]))
    return list(people.values())


def revised_since(store: StateStore, since_iso: str) -> set[str]:
    """Slugs of write-ups published or changed (a new revision) since that moment."""
    with store.read() as conn:
        return {r[0] for r in conn.execute("SELECT DISTINCT slug FROM revisions WHERE "
                                           "created_at>=?", (since_iso,))}


def claim_covered(conn: sqlite3.Connection, follow_ids: list[int], before: float,
                  now: float) -> set[int]:
    """Inside the transaction that queues the digest: mark these searches covered up to now,
    only those still due (another sender may have covered them meanwhile). Returns the ids
    this transaction claimed: each search is in at most one digest a period."""
    claimed: set[int] = set()
    for follow_id in follow_ids:
        row = conn.execute("UPDATE follows SET last_sent_at=? WHERE id=? AND last_sent_at<=? "
                           "RETURNING id", (now, follow_id, before)).fetchone()
        if row:
            claimed.add(int(row[0]))
    return claimed
