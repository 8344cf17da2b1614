"""After the day: attendees rate the sessions they had a place in and say what they will try;
the CPD lead's report of fill and feedback per session and per strand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

from kb.curation.programme import Programme
from kb.errors import BadInputError, ConflictError
from kb.state.accounts import User
from kb.state.database import StateStore, now_iso
from kb.workflows.attendance import fills
from kb.workflows.signup import find_session

MAX_TRY = 2000


@dataclass(frozen=True)
class SessionReport:
    slot: str
    strand: str
    title: str
    capacity: int | None
    placed: int
    waiting: int
    responses: int
    mean_rating: float | None
    tries: tuple[str, ...] = ()

    @property
    def fill_percent(self) -> int | None:
        return None if not self.capacity else round(100 * self.placed / self.capacity)


@dataclass
class StrandReport:
    strand: str
    title: str
    sessions: int = 0
    placed: int = 0
    capacity: int = 0
    responses: int = 0
    ratings: list[int] = field(default_factory=list)

    @property
    def mean_rating(self) -> float | None:
        return round(sum(self.ratings) / len(self.ratings), 1) if self.ratings else None


def give(store: StateStore, user: User, programme: Programme, slot: str, strand: str,
         rating: str | int, will_try: str, today: dt.date | None = None) -> None:
    """Record (or change) this attendee's rating of one session and what they will try."""
    find_session(programme, slot, strand)
    try:
        stars = int(str(rating).strip())
    except ValueError:
        stars = 0
    if not 1 <= stars <= 5:
        raise BadInputError(f"rating: choose 1 (not useful) to 5 (very useful), got "
                            f"{str(rating)[:10]!r}")
    will_try = will_try.strip()
    if len(will_try) > MAX_TRY:
        raise BadInputError(f"will_try: keep it under {MAX_TRY} characters")
    if (today or dt.date.today()) < programme.date:
        raise ConflictError(f"feedback opens on the day itself, {programme.date.isoformat()}")
    with store.write() as conn:
        had = conn.execute("SELECT 1 FROM signups WHERE programme=? AND slot=? AND strand=? "
                           "AND user_id=? AND status='placed'",
                           (programme.slug, slot, strand, user.id)).fetchone()
        if had is None:
            raise ConflictError(f"you had no place in the {strand} session at {slot}, so "
                                "you cannot rate it")
        conn.execute("INSERT INTO session_feedback (programme, slot, strand, user_id, rating, "
                     "will_try, created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(programme, "
                     "slot, strand, user_id) DO UPDATE SET rating=excluded.rating, "
                     "will_try=excluded.will_try, created_at=excluded.created_at",
                     (programme.slug, slot, strand, user.id, stars, will_try, now_iso()))


def mine(store: StateStore, user_id: int, slug: str) -> dict[tuple[str, str], tuple[int, str]]:
    """(slot, strand) -> (rating, what they will try) for one attendee."""
    with store.read() as conn:
        return {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(
            "SELECT slot, strand, rating, will_try FROM session_feedback WHERE programme=? "
            "AND user_id=?", (slug, user_id))}


def report(store: StateStore, programme: Programme, titles: Mapping[str, str]
           ) -> tuple[list[SessionReport], list[StrandReport]]:
    """Fill and feedback for every session, then totals per strand."""
    with store.read() as conn:
        rows = conn.execute("SELECT slot, strand, rating, will_try FROM session_feedback "
                            "WHERE programme=? ORDER BY id", (programme.slug,)).fetchall()
    ratings: dict[tuple[str, str], list[int]] = {}
    tries: dict[tuple[str, str], list[str]] = {}
    for slot, strand, rating, will_try in rows:
        ratings.setdefault((slot, strand), []).append(rating)
        if will_try:
            tries.setdefault((slot, strand), []).append(will_try)
    counts = fills(store, programme)
    sessions: list[SessionReport] = []
    strands = {s.id: StrandReport(s.id, s.title) for s in programme.strands}
    for slot, session in programme.sessions():
        key = (slot.start, session.strand)
        fill, got = counts[key], ratings.get(key, [])
        sessions.append(SessionReport(
            slot.start, session.strand,
            session.title or titles.get(session.collection, session.collection),
            fill.capacity, fill.placed, fill.waiting, len(got),
            round(sum(got) / len(got), 1) if got else None, tuple(tries.get(key, []))))
        total = strands[session.strand]
        total.sessions += 1
        total.placed += fill.placed
        total.capacity += fill.capacity or 0
        total.responses += len(got)
        total.ratings.extend(got)
    return sessions, list(strands.values())
