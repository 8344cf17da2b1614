"""Who is coming to what: places left per session, a teacher's own day, a session's register,
and a consistency check of the sign-up tables (read-only)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kb.curation.programme import Programme
from kb.state.database import StateStore
from kb.workflows.signup import capacity_of


@dataclass(frozen=True)
class Fill:
    """One session's numbers."""

    placed: int = 0
    waiting: int = 0
    capacity: int | None = None

    @property
    def left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.placed, 0)

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.placed >= self.capacity


@dataclass(frozen=True)
class Attendee:
    user_id: int
    name: str
    email: str
    school: str
    status: str
    position: int  # 0 for a place, else the place in the queue


@dataclass(frozen=True)
class MyEntry:
    """A teacher's standing in one slot."""

    placed: str = ""  # strand of the session they have a place in
    waiting: str = ""  # strand of the session they are queueing for
    position: int = 0


def fills(store: StateStore, programme: Programme) -> dict[tuple[str, str], Fill]:
    """(slot start, strand) -> places taken, queue length and capacity, for every session."""
    with store.read() as conn:
        return fills_in(conn, programme)


def day_of(store: StateStore, user_id: int, slug: str) -> dict[str, MyEntry]:
    """Slot start -> this teacher's place and queue position."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT s.slot, s.strand, s.status, (SELECT count(*) FROM signups w WHERE "
            "w.programme=s.programme AND w.slot=s.slot AND w.strand=s.strand AND "
            "w.status='waiting' AND w.id <= s.id) FROM signups s WHERE s.programme=? AND "
            "s.user_id=?", (slug, user_id)).fetchall()
    out: dict[str, MyEntry] = {}
    for slot, strand, status, position in rows:
        entry = out.get(slot, MyEntry())
        if status == "placed":
            entry = MyEntry(strand, entry.waiting, entry.position)
        else:
            entry = MyEntry(entry.placed, strand, int(position))
        out[slot] = entry
    return out


def roster(store: StateStore, slug: str, slot: str, strand: str) -> list[Attendee]:
    """The register of one session: places by name, then the waiting list in order."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT u.id, u.name, u.email, u.school, s.status FROM signups s JOIN users u ON "
            "u.id=s.user_id WHERE s.programme=? AND s.slot=? AND s.strand=? "
            "ORDER BY s.status='waiting', CASE WHEN s.status='placed' THEN u.name END "
            "COLLATE NOCASE, s.id", (slug, slot, strand)).fetchall()
    out, queue = [], 0
    for user_id, name, email, school, status in rows:
        queue += status == "waiting"
        out.append(Attendee(user_id, name, email, school, status,
                            queue if status == "waiting" else 0))
    return out


def inconsistencies(store: StateStore, programme: Programme) -> list[str]:
    """Every broken rule: a room over capacity, a teacher in two sessions of a slot, a
    queue beside a free place, or someone promoted ahead of an earlier arrival."""
    problems: list[str] = []
    with store.read() as conn:
        conn.execute("BEGIN")  # one snapshot for every query below
        for (slot, strand), fill in fills_in(conn, programme).items():
            if fill.capacity is not None and fill.placed > fill.capacity:
                problems.append(f"{slot} {strand}: {fill.placed} places for "
                                f"{fill.capacity} seats")
            if fill.waiting and not fill.full:
                problems.append(f"{slot} {strand}: {fill.waiting} waiting beside a free place")
        for slot, user_id, n in conn.execute(
                "SELECT slot, user_id, count(*) FROM signups WHERE programme=? AND "
                "status='placed' GROUP BY slot, user_id HAVING count(*) > 1",
                (programme.slug,)):
            problems.append(f"{slot}: teacher {user_id} has {n} places")
        for slot, strand, promoted, waiting in conn.execute(
                "SELECT p.slot, p.strand, p.id, w.id FROM signups p JOIN signups w ON "
                "w.programme=p.programme AND w.slot=p.slot AND w.strand=p.strand WHERE "
                "p.programme=? AND p.promoted_at != '' AND w.status='waiting' AND w.id < p.id",
                (programme.slug,)):
            problems.append(f"{slot} {strand}: entry {promoted} promoted before the earlier "
                            f"entry {waiting}")
        conn.execute("COMMIT")
    return problems


def fills_in(conn: sqlite3.Connection, programme: Programme) -> dict[tuple[str, str], Fill]:
    """fills() inside the caller's connection (one snapshot with its other reads)."""
    counts = {(r[0], r[1], r[2]): r[3] for r in conn.execute(
        "SELECT slot, strand, status, count(*) FROM signups WHERE programme=? "
        "GROUP BY slot, strand, status", (programme.slug,))}
    return {(slot.start, s.strand): Fill(counts.get((slot.start, s.strand, "placed"), 0),
                                         counts.get((slot.start, s.strand, "waiting"), 0),
                                         capacity_of(programme, s))
            for slot, s in programme.sessions()}
