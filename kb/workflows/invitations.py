"""Invitations: an admin (or a family lead, for their family's schools) invites someone by
e-mail; the link's token is random, stored hashed, single-use, expiring and revocable."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from kb.content.directory import Directory
from kb.errors import (
    BadInputError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TooManyRequestsError,
)
from kb.mail import letters, outbox
from kb.mail.compose import build_message
from kb.settings import Settings
from kb.state import audit, throttle
from kb.state.accounts import (
    COUNT_WINDOW,
    IP_FACTOR,
    ROLES,
    LoginPolicy,
    User,
    check_password,
    hash_password,
    normalise_email,
)
from kb.state.database import StateStore, now_iso

T = TypeVar("T")

# A family lead may invite these roles, to schools of their own family only.
LEAD_MAY_INVITE = ("reader", "contributor", "family-lead")
SCHOOL_ROLES = ("contributor", "family-lead")
MAX_CSV_ROWS = 2000
INVITES_PER_HOUR = 600  # per inviter: a whole county's staff list in a few hours, not a flood


class TokenError(BadInputError):
    """A link that cannot be used: `reason` is unknown, expired, used or revoked."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Invitation:
    id: int
    email: str
    name: str
    role: str
    school: str
    family: str
    invited_by: str
    created_at: float
    expires_at: float
    accepted_at: float | None
    revoked_at: float | None

    def state(self, now: float | None = None) -> str:
        """waiting, accepted, revoked or expired."""
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if (now or time.time()) >= self.expires_at else "waiting"


@dataclass(frozen=True)
class Sent:
    """An invitation just made or re-sent, with the link (printed by the CLI offline)."""

    invitation: Invitation
    link: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


_COLUMNS = ("id, email, name, role, school, family, invited_by, created_at, expires_at, "
            "accepted_at, revoked_at")


def _one(conn: sqlite3.Connection, where: str, param: object) -> Invitation | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM invitations WHERE {where}", (param,)).fetchone()
    return Invitation(*row) if row else None


def may_invite(inviter: User, role: str, family: str) -> bool:
    """Admins invite anyone; family leads readers, contributors and leads of their family."""
    if inviter.has_role("admin"):
        return True
    return (inviter.role == "family-lead" and not inviter.disabled and role in LEAD_MAY_INVITE
            and bool(family) and family == inviter.family)


def _checked(directory: Directory, inviter: User, email: str, role: str, school: str
             ) -> tuple[str, str, str, str]:
    email = normalise_email(email)
    if role not in ROLES:
        raise BadInputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    school_id = family_id = school_name = ""
    if school.strip():
        found = directory.resolve_school(school.strip())
        if found is None:
            near = ", ".join(directory.suggest_school(school)) or "see content/schools.yaml"
            raise BadInputError(f"unknown school {school.strip()[:80]!r} (did you mean {near}?)")
        school_id, family_id, school_name = found.id, found.family, found.name
    elif role in SCHOOL_ROLES:
        raise BadInputError(f"a {role} belongs to a school: choose one")
    if not may_invite(inviter, role, family_id):
        raise PermissionDeniedError(
            "a family lead invites readers, contributors and family leads to their own "
            "family's schools only" if inviter.role == "family-lead" else
            "only admins and family leads send invitations")
    return email, school_id, family_id, school_name


def _issue(conn: sqlite3.Connection, settings: Settings, inv_id: int, email: str, name: str,
           role: str, school_name: str, inviter: str, now: float) -> str:
    """A fresh token for an invitation, its message queued in this transaction; the link."""
    token = secrets.token_urlsafe(32)
    expires = now + settings.invite_days * 86_400
    conn.execute("UPDATE invitations SET token_hash=?, expires_at=?, created_at=? WHERE id=?",
                 (token_hash(token), expires, now, inv_id))
    link = f"{settings.site_url}/invite/{token}"
    letter = letters.invitation(email, name, role, school_name, inviter, link,
                                settings.invite_days)
    outbox.enqueue(conn, build_message(letter, settings.mail_from), "invitation")
    return link


def invite(store: StateStore, directory: Directory, settings: Settings, inviter: User, *,
           email: str, role: str, school: str = "", name: str = "",
           clock: Callable[[], float] = time.time) -> Sent:
    """Invite one person; refused when they have an account or a live invitation already."""
    email, school_id, family_id, school_name = _checked(directory, inviter, email, role, school)
    name = " ".join(name.split())[:120]
    now = clock()
    with store.write() as conn:
        key = "invite:" + inviter.email
        throttle.check(conn, [throttle.Limit(key, INVITES_PER_HOUR, 3600)], now,
                       f"you have sent {INVITES_PER_HOUR} invitations in the last hour; send "
                       "the rest later")
        if conn.execute("SELECT 1 FROM users WHERE email=?", (email,)).fetchone():
            raise ConflictError(f"{email} already has an account")
        live = conn.execute("SELECT id FROM invitations WHERE email=? AND accepted_at IS NULL "
                            "AND revoked_at IS NULL AND expires_at>?", (email, now)).fetchone()
        if live:
            raise ConflictError(f"{email} has already been invited (invitation {live[0]}); "
                                "re-send or revoke that one")
        cur = conn.execute(
            "INSERT INTO invitations (email, name, role, school, family, token_hash, "
            "invited_by, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (email, name, role, school_id, family_id, "pending:" + secrets.token_hex(16),
             inviter.email, now, now))
        inv_id = int(cur.lastrowid or 0)
        throttle.record(conn, [key], now)
        link = _issue(conn, settings, inv_id, email, name, role, school_name, inviter.name,
                      now)
        audit.record(conn, inviter.email, "invitation.send", f"user:{email}",
                     f"role={role} school={school_id}")
        invitation = _one(conn, "id=?", inv_id)
    assert invitation is not None
    return Sent(invitation, link)


@dataclass(frozen=True)
class BatchResult:
    sent: list[Sent]
    problems: list[str]  # "line 4: ..." for each row left out


def invite_csv(store: StateStore, directory: Directory, settings: Settings, inviter: User,
               text: str, *, role: str = "", school: str = "") -> BatchResult:
    """Invite everyone in a CSV (columns email, and optionally name, role, school; a header
    row is recognised). Bad or repeated rows are listed by line; the rest go through."""
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_CSV_ROWS:
        raise BadInputError(f"the file has {len(rows)} rows; send at most {MAX_CSV_ROWS} at once")
    header = [c.strip().lower() for c in rows[0]] if rows else []
    start = 1
    if "email" in header or "e-mail" in header:
        columns = ["email" if c == "e-mail" else c for c in header]
        start = 2
        rows = rows[1:]
    else:
        columns = ["email", "name", "role", "school"]
    sent: list[Sent] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=start):
        if not any(cell.strip() for cell in row):
            continue
        values = {col: (row[i].strip() if i < len(row) else "") for i, col in enumerate(columns)}
        address = values.get("email", "").lower()
        if address in seen:
            problems.append(f"line {number}: {address} is repeated (first on line "
                            f"{seen[address]})")
            continue
        seen[address] = number
        try:
            sent.append(invite(store, directory, settings, inviter, email=address,
                               role=values.get("role") or role, name=values.get("name", ""),
                               school=values.get("school") or school))
        except (BadInputError, ConflictError, PermissionDeniedError,
                TooManyRequestsError) as exc:
            problems.append(f"line {number}: {exc}")
    return BatchResult(sent, problems)


def list_invitations(store: StateStore, viewer: User, limit: int = 500) -> list[Invitation]:
    """Newest first: every invitation for admins, their family's for a family lead."""
    with store.read() as conn:
        if viewer.has_role("admin"):
            rows = conn.execute(f"SELECT {_COLUMNS} FROM invitations ORDER BY id DESC LIMIT ?",
                                (limit,)).fetchall()
        else:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM invitations WHERE family=? "
                                "ORDER BY id DESC LIMIT ?", (viewer.family, limit)).fetchall()
    return [Invitation(*row) for row in rows]


def _owned(conn: sqlite3.Connection, actor: User, inv_id: int) -> Invitation:
    inv = _one(conn, "id=?", inv_id)
    if inv is None or not may_invite(actor, inv.role, inv.family):
        raise NotFoundError(f"there is no invitation {inv_id} that you manage")
    if inv.accepted_at:
        raise ConflictError(f"invitation {inv_id} was accepted already")
    return inv


def revoke(store: StateStore, actor: User, inv_id: int) -> Invitation:
    """Stop an invitation's link working (its token can never be used again)."""
    with store.write() as conn:
        inv = _owned(conn, actor, inv_id)
        conn.execute("UPDATE invitations SET revoked_at=? WHERE id=?", (time.time(), inv_id))
        audit.record(conn, actor.email, "invitation.revoke", f"user:{inv.email}")
        changed = _one(conn, "id=?", inv_id)
    assert changed is not None
    return changed


def resend(store: StateStore, directory: Directory, settings: Settings, actor: User,
           inv_id: int, clock: Callable[[], float] = time.time) -> Sent:
    """A new link (the old one stops working) with a fresh expiry, sent again."""
    now = clock()
    with store.write() as conn:
        inv = _owned(conn, actor, inv_id)
        school = directory.schools.get(inv.school)
        link = _issue(conn, settings, inv_id, inv.email, inv.name, inv.role,
                      school.name if school else "", actor.name, now)
        conn.execute("UPDATE invitations SET revoked_at=NULL WHERE id=?", (inv_id,))
        audit.record(conn, actor.email, "invitation.resend", f"user:{inv.email}")
        changed = _one(conn, "id=?", inv_id)
    assert changed is not None
    return Sent(changed, link)


def _usable(inv: Invitation | None, now: float) -> Invitation:
    if inv is None:
        raise TokenError("unknown", "This invitation link is not valid. Check that the whole "
                         "link was copied, or ask for a new invitation.")
    state = inv.state(now)
    if state == "accepted":
        raise TokenError("used", "This invitation has been used already. Sign in with the "
                         "password you chose, or reset it if you have forgotten it.")
    if state == "revoked":
        raise TokenError("revoked", "This invitation was withdrawn. Ask whoever invited you "
                         "for a new one.")
    if state == "expired":
        raise TokenError("expired", "This invitation link has expired. Ask whoever invited "
                         "you to send it again.")
    return inv


def find(store: StateStore, token: str, clock: Callable[[], float] = time.time) -> Invitation:
    """The usable invitation a link's token belongs to, else TokenError saying why not."""
    if not token or len(token) > 200:
        return _usable(None, clock())
    with store.read() as conn:
        return _usable(_one(conn, "token_hash=?", token_hash(token)), clock())


def link_limits(kind: str, client: str, account: str, policy: LoginPolicy
                ) -> tuple[list[throttle.Limit], list[str]]:
    """The limits on using a link (an invitation or a reset) and the keys a failure counts
    under: per account when the link is known, else per client address. Like signing in: a
    colleague's typing mistakes behind a school's shared address slow nobody else, and
    someone trying made-up links is slowed at their address."""
    lockout, window = policy.lockout_seconds, max(policy.lockout_seconds, COUNT_WINDOW)
    if account:
        key = f"{kind}:{account}"
        return [throttle.Limit(key, policy.max_failures, window, lockout)], [key]
    key = f"{kind}-client:{client[:64]}"
    return [throttle.Limit(key, policy.max_failures * IP_FACTOR, window, lockout)], [key]


def use_link(store: StateStore, limits: tuple[list[throttle.Limit], list[str]], now: float,
             refused: str, attempt: Callable[[], T]) -> T:
    """Use an invitation or reset link: refused with `refused` while its limits are reached
    (TooManyRequestsError); a failed attempt (a bad, spent or expired link, a weak or
    mistyped password) counts against them."""
    checked, keys = limits
    with store.read() as conn:
        throttle.check(conn, checked, now, refused)
    try:
        return attempt()
    except (BadInputError, ConflictError):
        with store.write() as conn:
            throttle.record(conn, keys, now)
        raise


def accept(store: StateStore, token: str, password: str, name: str = "", *,
           confirm: str | None = None, client: str = "", policy: LoginPolicy = LoginPolicy(),
           clock: Callable[[], float] = time.time) -> User:
    """Create the invitee's account with their chosen password (and `confirm`, when given,
    the same again); the token is spent. Failed tries are throttled (TooManyRequestsError)."""
    now = clock()
    with store.read() as conn:
        known = _one(conn, "token_hash=?", token_hash(token[:200])) if token else None

    def attempt() -> User:
        if confirm is not None and password != confirm:
            _usable(known, now)  # a link that cannot be used says so first
            raise BadInputError("the two passwords are not the same")
        return _accept(store, token, password, name, now)

    return use_link(store, link_limits("accept", client, known.email if known else "", policy),
                    now, "there have been too many tries with this invitation link in the last "
                    "few minutes. Nothing is wrong with your invitation: the pause slows down "
                    "anyone guessing links", attempt)


def _accept(store: StateStore, token: str, password: str, name: str, now: float) -> User:
    check_password(password)
    digest = hash_password(password)  # slow on purpose: outside the write lock
    with store.write() as conn:
        inv = _usable(_one(conn, "token_hash=?", token_hash(token[:200])), now)
        display = (" ".join(name.split())[:120] or inv.name or inv.email.split("@")[0])
        try:
            cur = conn.execute(
                "INSERT INTO users (email, name, role, school, family, password_hash, "
                "created_at) VALUES (?,?,?,?,?,?,?)",
                (inv.email, display, inv.role, inv.school, inv.family, digest, now_iso()))
        except sqlite3.IntegrityError:
            raise ConflictError(f"{inv.email} already has an account; sign in instead") from None
        user_id = int(cur.lastrowid or 0)
        conn.execute("UPDATE invitations SET accepted_at=?, user_id=? WHERE id=?",
                     (now, user_id, inv.id))
        audit.record(conn, inv.email, "invitation.accept", f"user:{inv.email}",
                     f"role={inv.role} school={inv.school} invited by {inv.invited_by}")
    return User(user_id, inv.email, display, inv.role, inv.school, inv.family, False)
