"""School-to-school support requests: ask a write-up's school for help, and its answer."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from kb.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from kb.mail.notices import Notices
from kb.state import audit
from kb.state.accounts import CONTRIBUTOR_ROLES, MODERATOR_ROLES, User
from kb.state.database import StateStore, now_iso

KINDS = {"visit": "A visit", "coaching": "Coaching", "resources": "Resources",
         "training": "Training"}
STATUS_LABELS = {"open": "Waiting for an answer", "accepted": "Accepted",
                 "declined": "Declined", "completed": "Support happened"}
MAX_MESSAGE = 4000


@dataclass(frozen=True)
class SupportRequest:
    """One teacher's request to the school behind a write-up, and where it stands."""

    id: int
    slug: str
    school: str
    family: str
    requester_id: int
    requester_name: str
    requester_school: str
    kind: str
    message: str
    status: str
    reply: str
    responder: str
    happened_on: str
    happened_note: str
    created_at: str
    updated_at: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class SupportCounts:
    requests: int = 0
    completed: int = 0


_SELECT = ("SELECT s.id, s.slug, s.school, s.family, s.requester_id, u.name, u.school, "
           "s.kind, s.message, s.status, s.reply, coalesce(r.name, ''), s.happened_on, "
           "s.happened_note, s.created_at, s.updated_at FROM support_requests s "
           "JOIN users u ON u.id=s.requester_id LEFT JOIN users r ON r.id=s.responder_id")


def _one(conn: sqlite3.Connection, request_id: int) -> SupportRequest | None:
    row = conn.execute(_SELECT + " WHERE s.id=?", (request_id,)).fetchone()
    return SupportRequest(*row) if row else None


def is_school_side(user: User, req: SupportRequest) -> bool:
    """True for contributors of the school the request was sent to."""
    return bool(user.school) and user.school == req.school and \
        user.has_role(*CONTRIBUTOR_ROLES)


def may_see(user: User, req: SupportRequest) -> bool:
    """The two parties and moderators; everyone else is told it does not exist."""
    return (req.requester_id == user.id or is_school_side(user, req)
            or user.has_role(*MODERATOR_ROLES))


def ask(store: StateStore, user: User, *, slug: str, school: str, family: str, kind: str,
        message: str, notices: Notices | None = None) -> SupportRequest:
    """Send a request to the school behind write-up `slug` (its school and family given)."""
    if kind not in KINDS:
        raise BadInputError(f"kind: choose one of {', '.join(KINDS)} (got {kind[:30]!r})")
    message = message.strip()
    if not message:
        raise BadInputError("message: say what help you would like")
    if len(message) > MAX_MESSAGE:
        raise BadInputError(f"message: keep it under {MAX_MESSAGE} characters")
    if user.school and user.school == school:
        raise BadInputError("this write-up comes from your own school; ask a colleague "
                            "directly instead")
    stamp = now_iso()
    with store.write() as conn:
        cur = conn.execute(
            "INSERT INTO support_requests (slug, school, family, requester_id, kind, message, "
            "status, created_at, updated_at) VALUES (?,?,?,?,?,?,'open',?,?)",
            (slug, school, family, user.id, kind, message, stamp, stamp))
        request_id = int(cur.lastrowid or 0)
        audit.record(conn, user.email, "support.ask", f"support:{request_id}",
                     f"{kind} for {slug} ({school})")
        if notices is not None:
            notices.support_asked(conn, request_id=request_id, slug=slug, school=school,
                                  asker=user.name, kind_label=KINDS[kind], message=message)
        made = _one(conn, request_id)
    assert made is not None
    return made


def get(store: StateStore, user: User, request_id: int) -> SupportRequest:
    """A request the user may see; anyone else gets NotFoundError (not a 403)."""
    with store.read() as conn:
        req = _one(conn, request_id)
    if req is None or not may_see(user, req):
        raise NotFoundError(f"there is no support request {request_id} for you")
    return req


def visible_to(store: StateStore, user: User) -> tuple[list[SupportRequest],
                                                       list[SupportRequest]]:
    """(requests this user sent, requests to this user's school or, for moderators, all)."""
    with store.read() as conn:
        sent = [SupportRequest(*r) for r in conn.execute(
            _SELECT + " WHERE s.requester_id=? ORDER BY s.id DESC", (user.id,))]
        if user.has_role(*MODERATOR_ROLES):
            rows = conn.execute(_SELECT + " ORDER BY s.id DESC").fetchall()
        elif user.school and user.has_role(*CONTRIBUTOR_ROLES):
            rows = conn.execute(_SELECT + " WHERE s.school=? ORDER BY s.id DESC",
                                (user.school,)).fetchall()
        else:
            rows = []
    received = [SupportRequest(*r) for r in rows if r[4] != user.id]
    return sent, received


def _move(store: StateStore, user: User, request_id: int, frm: str, to: str, action: str,
          sets: str = "", values: tuple[str, ...] = (), detail: str = "",
          notices: Notices | None = None) -> SupportRequest:
    """Change status frm -> to, exactly once, for the receiving school only."""
    with store.write() as conn:
        req = _one(conn, request_id)
        if req is None or not may_see(user, req):
            raise NotFoundError(f"there is no support request {request_id} for you")
        if not is_school_side(user, req):
            raise PermissionDeniedError("only contributors of the school asked can answer "
                                        "this request")
        cur = conn.execute(
            f"UPDATE support_requests SET status=?, responder_id=?, updated_at=?{sets} "
            "WHERE id=? AND status=?", (to, user.id, now_iso(), *values, request_id, frm))
        if cur.rowcount != 1:
            raise ConflictError(f"support request {request_id} is "
                                f"{req.status_label.lower()}; it cannot be {action} now")
        audit.record(conn, user.email, f"support.{to}", f"support:{request_id}", detail)
        moved = _one(conn, request_id)
        if notices is not None and moved is not None:
            notices.support_moved(conn, request_id=request_id, slug=moved.slug,
                                  asker_id=moved.requester_id,
                                  status_label=moved.status_label,
                                  reply=moved.happened_note if to == "completed" else
                                  moved.reply)
    assert moved is not None
    return moved


def accept(store: StateStore, user: User, request_id: int, reply: str = "",
           notices: Notices | None = None) -> SupportRequest:
    return _move(store, user, request_id, "open", "accepted", "accepted",
                 ", reply=?", (reply.strip()[:MAX_MESSAGE],), reply[:500], notices)


def decline(store: StateStore, user: User, request_id: int, reply: str = "",
            notices: Notices | None = None) -> SupportRequest:
    return _move(store, user, request_id, "open", "declined", "declined",
                 ", reply=?", (reply.strip()[:MAX_MESSAGE],), reply[:500], notices)


def complete(store: StateStore, user: User, request_id: int, happened_on: str,
             note: str = "", notices: Notices | None = None) -> SupportRequest:
    """Record that accepted support took place on `happened_on` (YYYY-MM-DD)."""
    try:
        day = dt.date.fromisoformat(happened_on.strip())
    except ValueError:
        raise BadInputError(f"happened_on: give the date as YYYY-MM-DD "
                            f"(got {happened_on[:20]!r})") from None
    if day > dt.date.today():
        raise BadInputError("happened_on: record support once it has happened, "
                            "not in advance")
    return _move(store, user, request_id, "accepted", "completed", "recorded as completed",
                 ", happened_on=?, happened_note=?", (day.isoformat(),
                                                       note.strip()[:MAX_MESSAGE]),
                 day.isoformat(), notices)


def counts(store: StateStore, *, slug: str | None = None,
           family: str | None = None) -> SupportCounts:
    """How many requests were made and how many completed, for a write-up or a family."""
    column, value = ("slug", slug) if slug is not None else ("family", family)
    with store.read() as conn:
        row = conn.execute(f"SELECT count(*), coalesce(sum(status='completed'), 0) FROM "
                           f"support_requests WHERE {column}=?", (value,)).fetchone()
    return SupportCounts(int(row[0]), int(row[1]))


def per_month(store: StateStore) -> dict[str, int]:
    """Requests made per month (YYYY-MM), for the dashboard."""
    with store.read() as conn:
        return {r[0]: r[1] for r in conn.execute(
            "SELECT substr(created_at, 1, 7), count(*) FROM support_requests "
            "GROUP BY 1 ORDER BY 1")}
