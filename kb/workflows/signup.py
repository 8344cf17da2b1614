"""Inset-day sign-up: one session per slot, room capacity decided inside one database
transaction, waiting lists promoted in order, and the CPD lead's open, close and move."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass

from kb.curation.programme import Programme, Session, Slot
from kb.errors import BadInputError, ConflictError
from kb.state import audit
from kb.state.accounts import User
from kb.state.database import StateStore, now_iso

# Teachers' choices commit with synchronous=NORMAL (WAL): atomic and consistent, and kept
# through a crash of any worker or of the whole server, but the last moments' choices can be
# lost in a power cut. An fsync per choice would cap the opening minute at the disk's fsync
# rate (measured: 1,500 teachers took 248 s instead of under 120). Windows and moves by the
# CPD lead stay fully durable.
CHOICES_DURABLE = False
# How long a replaced version of a programme file is remembered: far longer than any request
# that read it before the edit can take to reach the database.
SUPERSEDED_MINUTES = 10
DEADLINE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z?$")


class SessionFull(ConflictError):
    """The session has no place left; the answer offers its waiting list."""


@dataclass(frozen=True)
class Window:
    """Whether teachers may sign up for a programme now, and until when."""

    programme: str
    status: str  # 'open', 'closed' or 'not opened'
    deadline: str = ""  # UTC, YYYY-MM-DDTHH:MM:SSZ; '' = until the CPD lead closes it
    changed_by: str = ""
    changed_at: str = ""

    def accepting(self, now: str = "") -> bool:
        """True while teachers may sign up and change (now: UTC ISO time; default: now)."""
        now = now or now_iso()
        return self.status == "open" and (not self.deadline or now < self.deadline)

    def why_not(self) -> str:
        if self.status == "not opened":
            return "sign-up for this programme has not opened yet"
        if self.status == "closed":
            return "sign-up for this programme is closed; ask the CPD lead to move you"
        when = self.deadline[:16].replace("T", " ")
        return (f"the deadline for changes ({when} UTC) has passed; "
                "ask the CPD lead to move you")


@dataclass(frozen=True)
class Choice:
    """What one sign-up did: a place, a waiting-list entry, or nothing new (a repeat)."""

    slot: str
    strand: str
    status: str  # 'placed' or 'waiting'
    repeat: bool = False
    position: int = 0  # 1 = next in line, for waiting-list entries
    left: str = ""  # the strand whose place this teacher gave up for this one

    @property
    def message(self) -> str:
        if self.status == "waiting":
            return f"you are number {self.position} on the waiting list"
        return "you already have this place" if self.repeat else "you have a place"


def find_session(programme: Programme, slot: str, strand: str) -> tuple[Slot, Session]:
    """The session of `strand` in the slot starting at `slot`, or a message naming the field."""
    found = next((s for s in programme.slots if s.start == slot and s.sessions), None)
    if found is None:
        starts = ", ".join(s.start for s in programme.slots if s.sessions)
        raise BadInputError(f"slot: {slot[:20]!r} is not a workshop slot of this programme "
                            f"(they start at {starts})")
    session = found.session_for(strand)
    if session is None:
        raise BadInputError(f"strand: there is no {strand[:40]!r} session at {slot}; choose "
                            f"one of {', '.join(s.strand for s in found.sessions)}")
    return found, session


def supersede(conn: sqlite3.Connection, programme: str, old_hash: str, new_hash: str) -> None:
    """Note, inside a programme edit's transaction, that the version `old_hash` is replaced."""
    conn.execute("INSERT INTO programme_superseded (programme, content_hash, superseded_at) "
                 "VALUES (?,?,?) ON CONFLICT DO UPDATE SET superseded_at=excluded.superseded_at",
                 (programme, old_hash, now_iso()))
    conn.execute("DELETE FROM programme_superseded WHERE programme=? AND content_hash=?",
                 (programme, new_hash))


def check_current(conn: sqlite3.Connection, programme: Programme) -> None:
    """Refuse a sign-up worked out on a version of the programme that a curator has just
    replaced (a room's seats or a session may have changed under it)."""
    if not programme.content_hash:
        return
    cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=SUPERSEDED_MINUTES)
              ).strftime("%Y-%m-%dT%H:%M:%SZ")
    row = conn.execute("SELECT superseded_at FROM programme_superseded WHERE programme=? AND "
                       "content_hash=?", (programme.slug, programme.content_hash)).fetchone()
    if row is not None and row[0] >= cutoff:
        raise ConflictError("the programme was changed a moment ago; open the page again "
                            "and choose once more")


def capacity_of(programme: Programme, session: Session) -> int | None:
    """The session room's seats (None: the room has no stated limit)."""
    room = programme.rooms.get(session.room)
    return room.capacity if room else None


def window(store: StateStore, slug: str) -> Window:
    with store.read() as conn:
        return window_in(conn, slug)


def window_in(conn: sqlite3.Connection, slug: str) -> Window:
    row = conn.execute("SELECT status, deadline, changed_by, changed_at FROM signup_windows "
                       "WHERE programme=?", (slug,)).fetchone()
    return Window(slug, *row) if row else Window(slug, "not opened")


def parse_deadline(text: str) -> str:
    """A deadline from a form or the API (YYYY-MM-DDTHH:MM, UTC) as stored; '' for none."""
    text = text.strip().replace(" ", "T")
    if not text:
        return ""
    if not DEADLINE_RE.match(text):
        raise BadInputError(f"deadline: give a date and time like 2026-10-14T17:00 (UTC), "
                            f"got {text[:30]!r}")
    try:
        moment = dt.datetime.fromisoformat(text.rstrip("Z"))
    except ValueError:
        raise BadInputError(f"deadline: {text[:30]!r} is not a real date and time") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def set_window(store: StateStore, actor: User, programme: Programme, status: str,
               deadline: str = "") -> Window:
    """Open (with an optional deadline for changes) or close sign-up; audited."""
    if status not in ("open", "closed"):
        raise BadInputError(f"status: 'open' or 'closed', not {status[:20]!r}")
    stored = parse_deadline(deadline)
    with store.write() as conn:
        conn.execute("INSERT INTO signup_windows (programme, status, deadline, changed_by, "
                     "changed_at) VALUES (?,?,?,?,?) ON CONFLICT(programme) DO UPDATE SET "
                     "status=excluded.status, deadline=excluded.deadline, "
                     "changed_by=excluded.changed_by, changed_at=excluded.changed_at",
                     (programme.slug, status, stored, actor.email, now_iso()))
        audit.record(conn, actor.email, f"signup.{status}", f"programme:{programme.slug}",
                     f"deadline {stored}" if stored else "")
        return window_in(conn, programme.slug)


def facilitates(user: User, session: Session) -> bool:
    """True if the account's e-mail address is one the programme file gives for the session's
    facilitators. Never by name: anyone can change the name on their account."""
    return bool(user.email) and user.email.lower() in session.contacts


def leads_in(user: User, slot: Slot) -> Session | None:
    """The session this teacher facilitates in the slot, if any."""
    return next((s for s in slot.sessions if facilitates(user, s)), None)


def choose(store: StateStore, user: User, programme: Programme, slot: str, strand: str, *,
           waitlist: bool = False, by: User | None = None) -> Choice:
    """Give `user` a place in a session (giving up their other place in that slot), or a
    waiting-list entry if it is full and `waitlist`; `by` is a CPD lead moving them, who
    is not held to the window. Counting and inserting happen in one BEGIN IMMEDIATE
    transaction, so two workers can never both take the last seat."""
    check_not_leading(user, programme, slot, strand, by)
    stamp = now_iso()
    with store.write(durable=CHOICES_DURABLE or by is not None) as conn:
        current = window_in(conn, programme.slug)
        if by is None and not current.accepting(stamp):
            raise ConflictError(current.why_not())
        return choose_in(conn, user, programme, slot, strand, stamp, waitlist=waitlist, by=by)


def check_not_leading(user: User, programme: Programme, slot: str, strand: str,
                      by: User | None = None) -> None:
    """Refuse a teacher a session in a slot where they lead one (a lead may still move them)."""
    slot_obj, _ = find_session(programme, slot, strand)
    own = leads_in(user, slot_obj)
    if own is not None and by is None:
        raise ConflictError(f"you are leading the {own.strand} session at {slot}, so you "
                            "cannot attend another one then")


def choose_in(conn: sqlite3.Connection, user: User, programme: Programme, slot: str,
              strand: str, stamp: str, *, waitlist: bool = False,
              by: User | None = None) -> Choice:
    """choose() inside the caller's write transaction (the window already checked); raises
    SessionFull before writing anything when there is no place and no queueing."""
    _, session = find_session(programme, slot, strand)
    check_current(conn, programme)
    capacity = capacity_of(programme, session)
    mine = dict(conn.execute("SELECT status, strand FROM signups WHERE programme=? AND "
                             "slot=? AND user_id=?", (programme.slug, slot, user.id)))
    if mine.get("placed") == strand:
        return Choice(slot, strand, "placed", repeat=True)
    _fill(conn, programme, slot, strand, stamp)  # a raised capacity: serve the queue first
    if mine.get("waiting") == strand and not by:
        return Choice(slot, strand, "waiting", repeat=True,
                      position=_position(conn, programme.slug, slot, strand, user.id))
    placed = _placed(conn, programme.slug, slot, strand)
    if capacity is None or placed < capacity:
        left = mine.get("placed", "")
        _delete(conn, programme.slug, slot, user.id, "placed")
        if mine.get("waiting") == strand:
            _delete(conn, programme.slug, slot, user.id, "waiting")
        _insert(conn, programme.slug, slot, strand, user.id, "placed", stamp)
        if left:
            _fill(conn, programme, slot, left, stamp)
        if by is not None:
            audit.record(conn, by.email, "signup.move", f"programme:{programme.slug}",
                         f"{user.email} to {strand} at {slot}")
        return Choice(slot, strand, "placed", left=left)
    title = session.title or strand
    if by is not None:
        raise SessionFull(f"the {title} session at {slot} is full ({capacity} places); "
                          "nobody was moved")
    if not waitlist:
        raise SessionFull(f"the {title} session at {slot} is full ({capacity} places); "
                          "join its waiting list or choose another session")
    _delete(conn, programme.slug, slot, user.id, "waiting")
    _insert(conn, programme.slug, slot, strand, user.id, "waiting", stamp)
    return Choice(slot, strand, "waiting",
                  position=_position(conn, programme.slug, slot, strand, user.id))


def cancel(store: StateStore, user: User, programme: Programme, slot: str,
           status: str = "placed") -> bool:
    """Give up a place (promoting the first in line) or leave a waiting list; True if
    something was removed, False if there was nothing (a repeated click)."""
    if status not in ("placed", "waiting"):
        raise BadInputError(f"status: 'placed' or 'waiting', not {status[:20]!r}")
    if not any(s.start == slot and s.sessions for s in programme.slots):
        raise BadInputError(f"slot: {slot[:20]!r} is not a workshop slot of this programme")
    stamp = now_iso()
    with store.write(durable=CHOICES_DURABLE) as conn:
        current = window_in(conn, programme.slug)
        if not current.accepting(stamp):
            raise ConflictError(current.why_not())
        check_current(conn, programme)
        row = conn.execute("SELECT strand FROM signups WHERE programme=? AND slot=? AND "
                           "user_id=? AND status=?",
                           (programme.slug, slot, user.id, status)).fetchone()
        if row is None:
            return False
        _delete(conn, programme.slug, slot, user.id, status)
        if status == "placed":
            _fill(conn, programme, slot, row[0], stamp)
        return True


def _placed(conn: sqlite3.Connection, slug: str, slot: str, strand: str) -> int:
    return int(conn.execute("SELECT count(*) FROM signups WHERE programme=? AND slot=? AND "
                            "strand=? AND status='placed'", (slug, slot, strand)).fetchone()[0])


def _position(conn: sqlite3.Connection, slug: str, slot: str, strand: str, user_id: int) -> int:
    return int(conn.execute(
        "SELECT count(*) FROM signups WHERE programme=? AND slot=? AND strand=? AND "
        "status='waiting' AND id <= (SELECT id FROM signups WHERE programme=? AND slot=? AND "
        "user_id=? AND status='waiting')", (slug, slot, strand, slug, slot, user_id)
    ).fetchone()[0])


def _delete(conn: sqlite3.Connection, slug: str, slot: str, user_id: int, status: str) -> None:
    conn.execute("DELETE FROM signups WHERE programme=? AND slot=? AND user_id=? AND status=?",
                 (slug, slot, user_id, status))


def _insert(conn: sqlite3.Connection, slug: str, slot: str, strand: str, user_id: int,
            status: str, stamp: str) -> None:
    conn.execute("INSERT INTO signups (programme, slot, strand, user_id, status, created_at) "
                 "VALUES (?,?,?,?,?,?)", (slug, slot, strand, user_id, status, stamp))


def _fill(conn: sqlite3.Connection, programme: Programme, slot: str, strand: str,
          stamp: str) -> None:
    """Promote waiting teachers, first come first served, while the session has room; a
    promoted teacher's other place in the slot is given up and filled in turn."""
    todo = [strand]
    while todo:
        current = todo.pop()
        _, session = find_session(programme, slot, current)
        capacity = capacity_of(programme, session)
        while capacity is None or _placed(conn, programme.slug, slot, current) < capacity:
            row = conn.execute("SELECT id, user_id FROM signups WHERE programme=? AND slot=? "
                               "AND strand=? AND status='waiting' ORDER BY id LIMIT 1",
                               (programme.slug, slot, current)).fetchone()
            if row is None:
                break
            old = conn.execute("SELECT strand FROM signups WHERE programme=? AND slot=? AND "
                               "user_id=? AND status='placed'",
                               (programme.slug, slot, row[1])).fetchone()
            if old is not None:
                _delete(conn, programme.slug, slot, row[1], "placed")
                todo.append(old[0])
            conn.execute("UPDATE signups SET status='placed', promoted_at=? WHERE id=?",
                         (stamp, row[0]))
