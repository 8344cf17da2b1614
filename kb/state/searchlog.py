"""The search log: what people searched for and opened, with no personal data, kept for a
configurable number of days (application state; lives in the state database)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass

from kb.state.database import StateStore

MAX_QUERY = 300


@dataclass(frozen=True)
class LoggedSearch:
    id: str
    at: str
    query: str
    filters: dict[str, list[str]]
    results: int
    top_score: float | None
    opened: str | None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def new_search_id() -> str:
    """A random id for a search, unrelated to who searched."""
    return secrets.token_urlsafe(9)


def log_search(store: StateStore, query: str, filters: dict[str, list[str]],
               results: int, top_score: float | None, at: str | None = None,
               search_id: str | None = None) -> str:
    """Record one search; returns its id (used to record which result was opened)."""
    search_id = search_id or new_search_id()
    with store.write(durable=False) as conn:
        conn.execute("INSERT INTO search_log (id, at, query, filters, results, top_score) "
                     "VALUES (?,?,?,?,?,?)",
                     (search_id, at or _now(), " ".join(query.split())[:MAX_QUERY],
                      json.dumps(filters, sort_keys=True), results, top_score))
    return search_id


def log_open(store: StateStore, search_id: str, slug: str) -> bool:
    """Note the first result opened from a logged search; unknown ids are ignored."""
    with store.write(durable=False) as conn:
        cur = conn.execute("UPDATE search_log SET opened=? WHERE id=? AND opened IS NULL",
                           (slug[:100], search_id[:40]))
    return cur.rowcount == 1


def purge_search_log(store: StateStore, keep_days: int,
                     today: dt.date | None = None) -> int:
    """Delete entries older than keep_days; returns how many went."""
    cutoff = (today or dt.date.today()) - dt.timedelta(days=keep_days)
    with store.write(durable=False) as conn:
        cur = conn.execute("DELETE FROM search_log WHERE at < ?", (cutoff.isoformat(),))
    return cur.rowcount


def recent_searches(store: StateStore, since: str = "") -> list[LoggedSearch]:
    with store.read() as conn:
        rows = conn.execute("SELECT id, at, query, filters, results, top_score, opened FROM "
                            "search_log WHERE at >= ? ORDER BY at", (since,)).fetchall()
    return [LoggedSearch(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6]) for r in rows]


def searches_per_month(store: StateStore) -> dict[str, int]:
    with store.read() as conn:
        return {r[0]: r[1] for r in conn.execute(
            "SELECT substr(at, 1, 7), count(*) FROM search_log GROUP BY 1 ORDER BY 1")}
