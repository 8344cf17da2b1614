"""A school's improvement priorities, in its staff's own words, and who may see them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kb.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from kb.state import audit
from kb.state.accounts import CHALLENGE_ROLES, CONTRIBUTOR_ROLES, User, leads_family
from kb.state.database import StateStore, now_iso
from kb.state.schooldata import INDICATORS

MIN_TEXT, MAX_TEXT = 10, 600
STATUSES = ("open", "closed")


@dataclass(frozen=True)
class Priority:
    """One thing a school wants to improve, optionally tied to one of its indicators."""

    id: int
    school: str
    family: str
    text: str
    indicator: str
    author: str
    status: str
    created_at: str
    updated_at: str


_SELECT = ("SELECT p.id, p.school, p.family, p.text, p.indicator, u.name, p.status, "
           "p.created_at, p.updated_at FROM school_priorities p "
           "JOIN users u ON u.id=p.author_id")


def is_staff(user: User, school: str) -> bool:
    """Contributors (and moderators, curators) who belong to this school."""
    return bool(user.school) and user.school == school and user.has_role(*CONTRIBUTOR_ROLES)


def may_see(user: User, school: str, family: str) -> bool:
    """The school's staff, its family's lead, challenge leads and admins (issue 19)."""
    return (is_staff(user, school) or user.has_role(*CHALLENGE_ROLES)
            or leads_family(user, family))


def _text(text: str) -> str:
    text = " ".join(text.split())
    if len(text) < MIN_TEXT:
        raise BadInputError(f"text: say what the school wants to improve in at least "
                            f"{MIN_TEXT} characters")
    if len(text) > MAX_TEXT:
        raise BadInputError(f"text: keep it under {MAX_TEXT} characters (got {len(text)})")
    return text


def _indicator(indicator: str, phase: str) -> str:
    indicator = indicator.strip()
    if not indicator:
        return ""
    spec = INDICATORS.get(indicator)
    if spec is None or phase not in spec.phases:
        usable = [i.id for i in INDICATORS.values() if phase in i.phases]
        raise BadInputError(f"indicator: {indicator[:40]!r} is not one a {phase} school "
                            f"reports; choose {', '.join(usable) or 'none'} or leave it empty")
    return indicator


def _one(conn: sqlite3.Connection, priority_id: int) -> Priority | None:
    row = conn.execute(_SELECT + " WHERE p.id=?", (priority_id,)).fetchone()
    return Priority(*row) if row else None


def add(store: StateStore, user: User, *, school: str, family: str, phase: str, text: str,
        indicator: str = "") -> Priority:
    """Write a priority for the user's own school (its staff only)."""
    if not is_staff(user, school):
        raise PermissionDeniedError("only staff of this school can write its priorities")
    text, indicator = _text(text), _indicator(indicator, phase)
    stamp = now_iso()
    with store.write() as conn:
        cur = conn.execute(
            "INSERT INTO school_priorities (school, family, text, indicator, author_id, "
            "status, created_at, updated_at) VALUES (?,?,?,?,?,'open',?,?)",
            (school, family, text, indicator, user.id, stamp, stamp))
        pid = int(cur.lastrowid or 0)
        audit.record(conn, user.email, "priority.add", f"priority:{pid}",
                     f"{school}: {text[:200]}")
        made = _one(conn, pid)
    assert made is not None
    return made


def for_school(store: StateStore, user: User, school: str, family: str) -> list[Priority]:
    """A school's priorities, newest first; NotFoundError for anyone who may not see them."""
    if not may_see(user, school, family):
        raise NotFoundError(f"there are no priorities of {school} for you")
    with store.read() as conn:
        return [Priority(*r) for r in conn.execute(
            _SELECT + " WHERE p.school=? ORDER BY p.status, p.id DESC", (school,))]


def visible(store: StateStore, user: User) -> list[Priority]:
    """Every priority the user may see (all of them for challenge leads)."""
    with store.read() as conn:
        rows = [Priority(*r) for r in conn.execute(_SELECT + " ORDER BY p.status, p.id DESC")]
    return [p for p in rows if may_see(user, p.school, p.family)]


def get(store: StateStore, user: User, priority_id: int) -> Priority:
    with store.read() as conn:
        found = _one(conn, priority_id)
    if found is None or not may_see(user, found.school, found.family):
        raise NotFoundError(f"there is no priority {priority_id} for you")
    return found


def for_pairing(store: StateStore, priority_id: int) -> Priority:
    """The priority behind a pairing, for people the pairing itself was checked for (the
    partner school's staff see the priority they were asked to help with)."""
    with store.read() as conn:
        found = _one(conn, priority_id)
    if found is None:
        raise NotFoundError(f"there is no priority {priority_id}")
    return found


def set_status(store: StateStore, user: User, priority_id: int, status: str) -> Priority:
    """Close a priority that is done (or reopen it); the school's staff only."""
    if status not in STATUSES:
        raise BadInputError(f"status: use {' or '.join(STATUSES)}")
    found = get(store, user, priority_id)
    if not is_staff(user, found.school):
        raise PermissionDeniedError("only staff of this school can change its priorities")
    if found.status == status:
        raise ConflictError(f"priority {priority_id} is already {status}")
    with store.write() as conn:
        conn.execute("UPDATE school_priorities SET status=?, updated_at=? WHERE id=?",
                     (status, now_iso(), priority_id))
        audit.record(conn, user.email, f"priority.{status}", f"priority:{priority_id}")
        changed = _one(conn, priority_id)
    assert changed is not None
    return changed
