"""Transfer: "we tried this too" reports from other schools, moderation, and promotion."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kb.content.documents import ParseResult
from kb.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from kb.mail.notices import Notices
from kb.state import audit
from kb.state.accounts import MODERATOR_ROLES, User
from kb.state.database import StateStore, now_iso
from kb.workflows.contribution import describe_change
from kb.workflows.publishing import practice_path, read_current
from kb.workflows.revisions import add_revision, keep_current, publishing

RESULTS = {"positive": "Positive", "mixed": "Mixed", "none": "No measurable change"}
MAX_TEXT = 4000
# Other schools with positive, measured results before a moderator may promote a write-up.
PROMOTION_MIN_SCHOOLS = 2
Checker = Callable[[str, str], ParseResult]
# The `strength:` line inside the front matter's `evidence:` block.
STRENGTH_RE = re.compile(r"^(evidence:[ \t]*\n(?:[ \t]+.*\n)*?[ \t]+strength:[ \t]*)([^\n#]*?)"
                         r"([ \t]*(?:#.*)?)$", re.MULTILINE)


@dataclass(frozen=True)
class TransferReport:
    """One school's account of adopting another school's write-up."""

    id: int
    slug: str
    user_id: int
    reporter: str
    school: str
    context: str
    adapted: str
    measured: str
    result: str
    status: str
    reason: str
    created_at: str
    reviewed_at: str

    @property
    def result_label(self) -> str:
        return RESULTS.get(self.result, self.result)


_SELECT = ("SELECT t.id, t.slug, t.user_id, u.name, t.school, t.context, t.adapted, "
           "t.measured, t.result, t.status, t.reason, t.created_at, t.reviewed_at "
           "FROM transfer_reports t JOIN users u ON u.id=t.user_id")


def _one(conn: sqlite3.Connection, report_id: int) -> TransferReport | None:
    row = conn.execute(_SELECT + " WHERE t.id=?", (report_id,)).fetchone()
    return TransferReport(*row) if row else None


def _text(name: str, value: str, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise BadInputError(f"{name}: this needs filling in")
    if len(value) > MAX_TEXT:
        raise BadInputError(f"{name}: keep it under {MAX_TEXT} characters")
    return value


def report(store: StateStore, user: User, *, slug: str, origin_school: str, context: str,
           adapted: str, measured: str, result: str) -> TransferReport:
    """Record a pending report from the user's school about write-up `slug`."""
    if not user.school:
        raise BadInputError("your account is not linked to a school, so it cannot report "
                            "adopting practice; ask an administrator to set your school")
    if user.school == origin_school:
        raise BadInputError("this write-up comes from your own school; a transfer report "
                            "is for another school that adopted it")
    if result not in RESULTS:
        raise BadInputError(f"result: choose one of {', '.join(RESULTS)} (got {result[:20]!r})")
    values = (_text("context", context), _text("adapted", adapted, False),
              _text("measured", measured, False))
    with store.write() as conn:
        cur = conn.execute(
            "INSERT INTO transfer_reports (slug, user_id, school, context, adapted, measured, "
            "result, status, created_at) VALUES (?,?,?,?,?,?,?,'pending',?)",
            (slug, user.id, user.school, *values, result, now_iso()))
        report_id = int(cur.lastrowid or 0)
        audit.record(conn, user.email, "transfer.report", f"transfer:{report_id}",
                     f"{slug} ({result})")
        made = _one(conn, report_id)
    assert made is not None
    return made


def queue(store: StateStore) -> list[TransferReport]:
    """Reports waiting for a moderator, oldest first."""
    with store.read() as conn:
        return [TransferReport(*r) for r in conn.execute(
            _SELECT + " WHERE t.status='pending' ORDER BY t.id")]


def _decide(store: StateStore, moderator: User, report_id: int, status: str,
            reason: str, notices: Notices | None = None) -> TransferReport:
    if not moderator.has_role(*MODERATOR_ROLES):
        raise PermissionDeniedError("only moderators can review transfer reports")
    with store.write() as conn:
        found = _one(conn, report_id)
        if found is None:
            raise NotFoundError(f"there is no transfer report {report_id}")
        if found.user_id == moderator.id and moderator.role != "admin":
            raise PermissionDeniedError("another moderator must review your own report")
        cur = conn.execute("UPDATE transfer_reports SET status=?, reason=?, reviewed_by=?, "
                           "reviewed_at=? WHERE id=? AND status='pending'",
                           (status, reason, moderator.id, now_iso(), report_id))
        if cur.rowcount != 1:
            raise ConflictError(f"transfer report {report_id} was already {found.status}")
        audit.record(conn, moderator.email, f"transfer.{status}", f"transfer:{report_id}",
                     reason[:500])
        if notices is not None:
            notices.transfer_decided(conn, reporter_id=found.user_id, slug=found.slug,
                                     status=status, reason=reason)
        decided = _one(conn, report_id)
    assert decided is not None
    return decided


def approve(store: StateStore, moderator: User, report_id: int,
            notices: Notices | None = None) -> TransferReport:
    return _decide(store, moderator, report_id, "approved", "", notices)


def reject(store: StateStore, moderator: User, report_id: int, reason: str,
           notices: Notices | None = None) -> TransferReport:
    if not reason.strip():
        raise BadInputError("reason: give a reason for rejecting")
    return _decide(store, moderator, report_id, "rejected", reason.strip()[:MAX_TEXT],
                   notices)


def trail(store: StateStore, slug: str) -> list[TransferReport]:
    """Approved reports about a write-up, oldest first: its transfer trail."""
    with store.read() as conn:
        return [TransferReport(*r) for r in conn.execute(
            _SELECT + " WHERE t.slug=? AND t.status='approved' ORDER BY t.id", (slug,))]


def replications(reports: list[TransferReport]) -> tuple[int, int]:
    """(schools that replicated it, schools with a positive, measured result)."""
    schools = {r.school for r in reports}
    positive = {r.school for r in reports if r.result == "positive" and r.measured}
    return len(schools), len(positive)


def per_month(store: StateStore) -> dict[str, int]:
    """Transfer reports made per month (YYYY-MM), for the dashboard."""
    with store.read() as conn:
        return {r[0]: r[1] for r in conn.execute(
            "SELECT substr(created_at, 1, 7), count(*) FROM transfer_reports "
            "GROUP BY 1 ORDER BY 1")}


def with_strength(text: str, strength: str) -> str:
    """The write-up text with its front matter's evidence.strength replaced."""
    new, count = STRENGTH_RE.subn(lambda m: m.group(1) + strength + m.group(3), text, count=1)
    if count != 1:
        raise BadInputError("the write-up has no evidence.strength line in its front matter")
    return new


def promote(store: StateStore, moderator: User, practice_dir: Path, slug: str, levels:
            list[str], check: Checker, min_schools: int = PROMOTION_MIN_SCHOOLS) -> str:
    """Raise a replicated write-up's evidence strength one level, publishing it like an
    approval (atomic write, revision, audit); returns the new strength."""
    if not moderator.has_role(*MODERATOR_ROLES):
        raise PermissionDeniedError("only moderators can promote evidence strength")
    _, positive = replications(trail(store, slug))
    if positive < min_schools:
        raise ConflictError(f"{slug!r} has positive measured results from {positive} other "
                            f"school(s); promotion needs {min_schools}")
    path = practice_path(practice_dir, slug)
    with publishing(store, path) as (conn, publication):
        current = read_current(path)
        if current is None:
            raise NotFoundError(f"no published write-up called {slug!r}")
        text = current.decode("utf-8")
        doc = check(slug, text).document
        if doc is None:
            raise BadInputError(f"{slug!r} does not pass validation now; fix it first")
        if doc.evidence_strength not in levels or levels.index(doc.evidence_strength) + 1 \
                >= len(levels):
            raise ConflictError(f"{slug!r} is already at the highest evidence strength")
        target = levels[levels.index(doc.evidence_strength) + 1]
        new_text = with_strength(text, target)
        result = check(slug, new_text)
        if result.document is None or result.document.evidence_strength != target:
            raise BadInputError(f"promoting {slug!r} would make it invalid")
        keep_current(conn, slug, current)
        add_revision(conn, slug, new_text, author=moderator.name, approved_by=moderator.name,
                     summary=f"evidence strength {doc.evidence_strength} -> {target} after "
                             f"replication in {positive} schools; "
                             + describe_change(text, new_text))
        audit.record(conn, moderator.email, "practice.promote", f"practice:{slug}",
                     f"{doc.evidence_strength} -> {target} ({positive} schools)")
        publication.write(new_text)
    return target
