"""Brokered support: a challenge lead pairs a school's priority with a partner school, both
accept, they agree a plan with milestones and a review date, add notes, and record the outcome."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from kb.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from kb.state import audit
from kb.state.accounts import CHALLENGE_ROLES, CONTRIBUTOR_ROLES, User, leads_family
from kb.state.database import StateStore, now_iso
from kb.workflows.priorities import Priority

MAX_TEXT, MAX_MILESTONES = 2000, 12
STATUS_LABELS = {"proposed": "Proposed: waiting for both schools", "agreed": "Agreed",
                 "declined": "Declined", "reviewed": "Reviewed"}


@dataclass(frozen=True)
class Note:
    author: str
    text: str
    created_at: str


@dataclass(frozen=True)
class Pairing:
    """One brokered partnership for one priority, and where it stands."""

    id: int
    priority_id: int
    school: str
    family: str
    partner: str
    partner_family: str
    status: str
    proposal: str
    proposed_by: str
    school_accepted: bool
    partner_accepted: bool
    goal: str
    milestones: tuple[tuple[str, str], ...]  # (YYYY-MM-DD, what)
    review_on: str
    outcome: str
    start_year: int
    created_at: str
    notes: tuple[Note, ...] = ()

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


_SELECT = ("SELECT p.id, p.priority_id, p.school, p.family, p.partner, p.partner_family, "
           "p.status, p.proposal, u.name, p.school_accepted_by IS NOT NULL, "
           "p.partner_accepted_by IS NOT NULL, p.goal, p.milestones, p.review_on, p.outcome, "
           "p.start_year, p.created_at FROM pairings p JOIN users u ON u.id=p.proposed_by")


def _one(conn: sqlite3.Connection, pairing_id: int) -> Pairing | None:
    row = conn.execute(_SELECT + " WHERE p.id=?", (pairing_id,)).fetchone()
    if row is None:
        return None
    notes = tuple(Note(*r) for r in conn.execute(
        "SELECT u.name, n.text, n.created_at FROM pairing_notes n JOIN users u ON "
        "u.id=n.author_id WHERE n.pairing_id=? ORDER BY n.id", (pairing_id,)))
    values = list(row)
    values[9], values[10] = bool(values[9]), bool(values[10])
    values[12] = tuple(tuple(m) for m in json.loads(values[12]))
    return Pairing(*values, notes=notes)  # type: ignore[arg-type]


def side_of(user: User, pairing: Pairing) -> str:
    """'school' or 'partner' for staff of either school, '' for anyone else."""
    if not user.school or not user.has_role(*CONTRIBUTOR_ROLES):
        return ""
    return {pairing.school: "school", pairing.partner: "partner"}.get(user.school, "")


def may_see(user: User, pairing: Pairing) -> bool:
    """The two schools' staff, the family lead of either school's family, challenge leads and
    admins (issue 19); a moderator or contributor elsewhere in the family does not."""
    return (bool(side_of(user, pairing)) or user.has_role(*CHALLENGE_ROLES)
            or leads_family(user, pairing.family) or leads_family(user, pairing.partner_family))


def _text(name: str, text: str, required: bool = True) -> str:
    text = text.strip()
    if required and not text:
        raise BadInputError(f"{name}: this cannot be empty")
    if len(text) > MAX_TEXT:
        raise BadInputError(f"{name}: keep it under {MAX_TEXT} characters (got {len(text)})")
    return text


def academic_year(day: dt.date) -> int:
    """The year an academic year ends in: 1 September 2026 starts 2026/27, so 2027."""
    return day.year + 1 if day.month >= 9 else day.year


def propose(store: StateStore, user: User, priority: Priority, partner: str,
            partner_family: str, proposal: str, today: dt.date | None = None) -> Pairing:
    """A challenge lead proposes a partner school for a priority."""
    if not user.has_role(*CHALLENGE_ROLES):
        raise PermissionDeniedError("only challenge leads can broker a pairing")
    if partner == priority.school:
        raise BadInputError("partner: a school cannot be paired with itself")
    if priority.status != "open":
        raise ConflictError("this priority is closed; reopen it before brokering support")
    proposal = _text("proposal", proposal)
    stamp = now_iso()
    with store.write() as conn:
        if conn.execute("SELECT 1 FROM pairings WHERE priority_id=? AND partner=? AND status "
                        "IN ('proposed', 'agreed')", (priority.id, partner)).fetchone():
            raise ConflictError(f"{partner} is already proposed or agreed for this priority")
        cur = conn.execute(
            "INSERT INTO pairings (priority_id, school, family, partner, partner_family, status, "
            "proposal, proposed_by, start_year, created_at, updated_at) "
            "VALUES (?,?,?,?,?,'proposed',?,?,?,?,?)",
            (priority.id, priority.school, priority.family, partner, partner_family, proposal,
             user.id, academic_year(today or dt.date.today()), stamp, stamp))
        pid = int(cur.lastrowid or 0)
        audit.record(conn, user.email, "pairing.propose", f"pairing:{pid}",
                     f"{partner} supports {priority.school} on priority {priority.id}")
        made = _one(conn, pid)
    assert made is not None
    return made


def get(store: StateStore, user: User, pairing_id: int) -> Pairing:
    with store.read() as conn:
        found = _one(conn, pairing_id)
    if found is None or not may_see(user, found):
        raise NotFoundError(f"there is no pairing {pairing_id} for you")
    return found


def visible(store: StateStore, user: User) -> list[Pairing]:
    with store.read() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM pairings ORDER BY id DESC")]
        found = [p for p in (_one(conn, i) for i in ids) if p is not None]
    return [p for p in found if may_see(user, p)]


def _change(store: StateStore, user: User, pairing_id: int, action: str, sql: str,
            params: tuple, detail: str = "") -> Pairing:  # type: ignore[type-arg]
    with store.write() as conn:
        conn.execute(f"UPDATE pairings SET {sql}, updated_at=? WHERE id=?",
                     (*params, now_iso(), pairing_id))
        audit.record(conn, user.email, f"pairing.{action}", f"pairing:{pairing_id}", detail)
        changed = _one(conn, pairing_id)
    assert changed is not None
    return changed


def answer(store: StateStore, user: User, pairing_id: int, accept: bool) -> Pairing:
    """One school accepts (or declines) a proposal; it is agreed once both have accepted."""
    found = get(store, user, pairing_id)
    side = side_of(user, found)
    if not side:
        raise PermissionDeniedError("only staff of the two schools can answer a proposal")
    if found.status != "proposed":
        raise ConflictError(f"this pairing is {found.status_label.lower()}; it cannot be "
                            "answered now")
    if not accept:
        return _change(store, user, pairing_id, "decline", "status='declined'", (), side)
    # Decided from the row as it is inside the write, so two schools accepting at once agree.
    other = "partner" if side == "school" else "school"
    return _change(store, user, pairing_id, "accept",
                   f"{side}_accepted_by=?, status=CASE WHEN {other}_accepted_by IS NOT NULL "
                   "THEN 'agreed' ELSE 'proposed' END", (user.id,), side)


def parse_milestones(text: str) -> list[tuple[str, str]]:
    """One milestone a line, `YYYY-MM-DD what will have happened`."""
    out = []
    for n, line in enumerate((t.strip() for t in text.splitlines() if t.strip()), start=1):
        day, _, what = line.partition(" ")
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise BadInputError(f"milestones: line {n} should start with a date as YYYY-MM-DD "
                                f"(got {day[:20]!r})") from None
        if not what.strip():
            raise BadInputError(f"milestones: line {n} needs words after the date")
        out.append((day, what.strip()[:300]))
    if not out:
        raise BadInputError("milestones: give at least one, `YYYY-MM-DD what`")
    if len(out) > MAX_MILESTONES:
        raise BadInputError(f"milestones: at most {MAX_MILESTONES}")
    return sorted(out)


def set_plan(store: StateStore, user: User, pairing_id: int, goal: str, milestones: str,
             review_on: str) -> Pairing:
    """Either school writes the agreed plan: a goal, milestones and a review date."""
    found = get(store, user, pairing_id)
    if not side_of(user, found):
        raise PermissionDeniedError("only staff of the two schools can write the plan")
    if found.status != "agreed":
        raise ConflictError("a plan is written once both schools have accepted")
    goal, steps = _text("goal", goal), parse_milestones(milestones)
    try:
        review = dt.date.fromisoformat(review_on.strip())
    except ValueError:
        raise BadInputError(f"review_on: give the review date as YYYY-MM-DD "
                            f"(got {review_on[:20]!r})") from None
    if review.isoformat() < steps[0][0]:
        raise BadInputError("review_on: the review comes after the first milestone")
    return _change(store, user, pairing_id, "plan", "goal=?, milestones=?, review_on=?",
                   (goal, json.dumps(steps), review.isoformat()), review.isoformat())


def add_note(store: StateStore, user: User, pairing_id: int, text: str) -> Pairing:
    found = get(store, user, pairing_id)
    if not side_of(user, found) and not user.has_role(*CHALLENGE_ROLES):
        raise PermissionDeniedError("only the two schools and challenge leads add notes")
    if found.status not in ("agreed", "reviewed"):
        raise ConflictError("progress notes are added once the pairing is agreed")
    text = _text("note", text)
    with store.write() as conn:
        conn.execute("INSERT INTO pairing_notes (pairing_id, author_id, text, created_at) "
                     "VALUES (?,?,?,?)", (pairing_id, user.id, text, now_iso()))
        audit.record(conn, user.email, "pairing.note", f"pairing:{pairing_id}", text[:200])
        changed = _one(conn, pairing_id)
    assert changed is not None
    return changed


def review(store: StateStore, user: User, pairing_id: int, outcome: str) -> Pairing:
    """Record the outcome at review (the schools or a challenge lead), once a plan exists."""
    found = get(store, user, pairing_id)
    if not side_of(user, found) and not user.has_role(*CHALLENGE_ROLES):
        raise PermissionDeniedError("only the two schools and challenge leads review")
    if found.status != "agreed" or not found.goal:
        raise ConflictError("a pairing is reviewed once it is agreed and has a plan")
    return _change(store, user, pairing_id, "review", "status='reviewed', outcome=?",
                   (_text("outcome", outcome),), "")
