"""Accounts, roles, argon2 password hashes, server-side sessions and sign-in throttling."""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kb.content.directory import Directory
from kb.errors import (
    AuthenticationError,
    BadInputError,
    ConflictError,
    NotFoundError,
    TooManyRequestsError,
)
from kb.state import audit, throttle
from kb.state.database import StateStore, now_iso

# The one list of roles; the users table's CHECK spells the same list (migration 7, which
# rebuilt it last; a test compares them). A family lead contributes like a contributor and
# may also invite people to their family's schools; a challenge lead sees every school's data
# and brokers support between schools.
ROLES = ("reader", "contributor", "family-lead", "moderator", "curator", "challenge-lead",
         "admin")
CONTRIBUTOR_ROLES = ("contributor", "family-lead", "moderator", "curator", "admin")
# Who may send invitations: admins anywhere, family leads to their own family's schools.
INVITER_ROLES = ("family-lead", "admin")
# Who may see every school's data and broker support between schools (issue 19).
CHALLENGE_ROLES = ("challenge-lead", "admin")
MODERATOR_ROLES = ("moderator", "admin")
MIN_PASSWORD, MAX_PASSWORD = 10, 1024
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# An address failing on max_failures x IP_FACTOR different accounts is slowed as a whole.
IP_FACTOR = 4
COUNT_WINDOW = 900  # failures in the last 15 minutes count towards a lockout

_HASHER = PasswordHasher()  # argon2id with the library's current (RFC 9106) parameters
_DUMMY_HASH: list[str] = []


@dataclass(frozen=True)
class User:
    """A signed-up person; `family` follows from `school` and bounds what they may edit."""

    id: int
    email: str
    name: str
    role: str
    school: str
    family: str
    disabled: bool

    def has_role(self, *roles: str) -> bool:
        """True when the user holds one of the roles; admins hold every role."""
        return not self.disabled and (self.role in roles or self.role == "admin")


def leads_family(user: User, family: str) -> bool:
    """True for the family lead of this family of schools (not for admins: they see through
    their own rules, and not for moderators, whose remit is write-ups, not school plans)."""
    return (user.role == "family-lead" and not user.disabled and bool(family)
            and user.family == family)


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout_seconds: int = 300
    session_hours: int = 12


_COLUMNS = "id, email, name, role, school, family, disabled"


def _user(row: tuple | None) -> User | None:  # type: ignore[type-arg]
    return None if row is None else User(row[0], row[1], row[2], row[3], row[4], row[5],
                                         bool(row[6]))


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise BadInputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def hash_password(password: str) -> str:
    """An argon2id hash of a password (slow on purpose: call it outside write locks)."""
    return _HASHER.hash(password)


def check_password(password: str) -> None:
    """Refuse a password that is too short or too long, saying the limits."""
    _check_password(password)


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadInputError(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters "
                            f"long (got {len(password)})")


def normalise_email(email: str) -> str:
    """Lower-case and trim an e-mail address; raise BadInputError when it is not one."""
    email = email.strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise BadInputError(f"{email[:80]!r} is not an e-mail address")
    return email


def add_user(store: StateStore, directory: Directory, email: str, password: str, role: str, *,
             school: str | None = None, name: str | None = None, actor: str = "cli") -> User:
    """Create an account; contributors must belong to a school (and so to its family)."""
    email = normalise_email(email)
    _check_role(role)
    _check_password(password)
    school_id = family_id = ""
    if school:
        found = directory.resolve_school(school)
        if found is None:
            near = ", ".join(directory.suggest_school(school)) or "see content/schools.yaml"
            raise BadInputError(f"unknown school {school!r} (did you mean {near}?)")
        school_id, family_id = found.id, found.family
    elif role in ("contributor", "family-lead"):
        raise BadInputError(f"a {role} belongs to a school: give --school")
    display = (name or email.split("@")[0]).strip()[:120]
    digest = _HASHER.hash(password)
    with store.write() as conn:
        try:
            cur = conn.execute(
                "INSERT INTO users (email, name, role, school, family, password_hash, "
                "created_at) VALUES (?,?,?,?,?,?,?)",
                (email, display, role, school_id, family_id, digest, now_iso()))
        except sqlite3.IntegrityError:
            raise ConflictError(f"there is already an account for {email}") from None
        audit.record(conn, actor, "user.add", f"user:{email}", f"role={role} school={school_id}")
        user_id = int(cur.lastrowid or 0)
    return User(user_id, email, display, role, school_id, family_id, False)


def list_users(store: StateStore) -> list[User]:
    with store.read() as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM users ORDER BY email").fetchall()
    return [u for u in map(_user, rows) if u is not None]


def find_users(store: StateStore, query: str = "", limit: int = 200) -> list[User]:
    """Accounts whose address, name, school or role contains the words, by address."""
    words = query.strip()[:100]
    like = "%" + words.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
    with store.read() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM users WHERE email LIKE ?1 ESCAPE '!' OR name LIKE ?1 "
            "ESCAPE '!' OR school LIKE ?1 ESCAPE '!' OR role LIKE ?1 ESCAPE '!' "
            "ORDER BY email LIMIT ?2", (like, limit)).fetchall()
    return [u for u in map(_user, rows) if u is not None]


def get_user(store: StateStore, email: str) -> User:
    with store.read() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM users WHERE email=?",
                           (email.strip().lower(),)).fetchone()
    user = _user(row)
    if user is None:
        raise NotFoundError(f"there is no account for {email!r} (see `kb user list`)")
    return user


def get_user_by_id(store: StateStore, user_id: int) -> User:
    with store.read() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM users WHERE id=?", (user_id,)).fetchone()
    user = _user(row)
    if user is None:
        raise NotFoundError(f"there is no account {user_id}")
    return user


def _update(store: StateStore, email: str, sql: str, params: tuple, action: str,  # type: ignore
            detail: str, actor: str, end_sessions: bool) -> User:
    user = get_user(store, email)
    with store.write() as conn:
        conn.execute(sql, (*params, user.id))
        if end_sessions:
            conn.execute("DELETE FROM sessions WHERE user_id=?", (user.id,))
        audit.record(conn, actor, action, f"user:{user.email}", detail)
    return get_user(store, email)


def set_role(store: StateStore, email: str, role: str, actor: str = "cli") -> User:
    """Change a role; the user's sessions end so the new role applies at once."""
    user = get_user(store, email)
    if _check_role(role) == "contributor" and not user.school:
        raise BadInputError(f"{user.email} has no school; a contributor belongs to a school")
    return _update(store, email, "UPDATE users SET role=? WHERE id=?", (role,), "user.set-role",
                   f"{user.role} -> {role}", actor, end_sessions=True)


def set_disabled(store: StateStore, email: str, disabled: bool, actor: str = "cli") -> User:
    """Disable (signing out everywhere) or re-enable an account; nothing is deleted."""
    return _update(store, email, "UPDATE users SET disabled=? WHERE id=?", (int(disabled),),
                   "user.disable" if disabled else "user.enable", "", actor, end_sessions=True)


def set_password(store: StateStore, email: str, password: str, actor: str = "cli") -> User:
    _check_password(password)
    return _update(store, email, "UPDATE users SET password_hash=? WHERE id=?",
                   (_HASHER.hash(password),), "user.set-password", "", actor, end_sessions=True)


def set_school(store: StateStore, directory: Directory, email: str, school: str,
               actor: str = "cli") -> User:
    """Move an account to another school (and so its family); '' clears it for roles that
    need none. Sessions end so the new family's rights apply at once."""
    user = get_user(store, email)
    school_id = family_id = ""
    if school.strip():
        found = directory.resolve_school(school.strip())
        if found is None:
            near = ", ".join(directory.suggest_school(school)) or "see content/schools.yaml"
            raise BadInputError(f"unknown school {school.strip()[:80]!r} (did you mean {near}?)")
        school_id, family_id = found.id, found.family
    elif user.role in ("contributor", "family-lead"):
        raise BadInputError(f"a {user.role} belongs to a school: choose one")
    return _update(store, email, "UPDATE users SET school=?, family=? WHERE id=?",
                   (school_id, family_id), "user.set-school",
                   f"{user.school or '-'} -> {school_id or '-'}", actor, end_sessions=True)


def set_name(store: StateStore, user: User, name: str) -> User:
    """Change the name shown on pages."""
    name = " ".join(name.split())[:120]
    if not name:
        raise BadInputError("name: give the name to show on pages")
    return _update(store, user.email, "UPDATE users SET name=? WHERE id=?", (name,),
                   "user.set-name", name, user.email, end_sessions=False)


def change_password(store: StateStore, user: User, current: str, new: str,
                    keep_session: str = "") -> User:
    """Change one's own password, proving the current one; every other session ends."""
    _check_password(new)
    with store.read() as conn:
        row = conn.execute("SELECT password_hash FROM users WHERE id=?", (user.id,)).fetchone()
    try:
        ok = row is not None and _HASHER.verify(row[0], current[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise AuthenticationError("current password: that is not your current password")
    digest = _HASHER.hash(new)
    with store.write() as conn:
        conn.execute("UPDATE users SET password_hash=? WHERE id=?", (digest, user.id))
        conn.execute("DELETE FROM sessions WHERE user_id=? AND token_hash<>?",
                     (user.id, _token_hash(keep_session) if keep_session else ""))
        audit.record(conn, user.email, "user.change-password", f"user:{user.email}",
                     "other sessions ended")
    return get_user(store, user.email)


def end_all_sessions(store: StateStore, user: User) -> int:
    """Sign out everywhere: every session of the account ends (this one too)."""
    with store.write() as conn:
        cur = conn.execute("DELETE FROM sessions WHERE user_id=?", (user.id,))
        audit.record(conn, user.email, "logout.everywhere", f"user:{user.email}")
    return cur.rowcount


def mail_opt_out(store: StateStore, user: User) -> set[str]:
    """The kinds of optional e-mail this account has turned off."""
    with store.read() as conn:
        row = conn.execute("SELECT mail_opt_out FROM users WHERE id=?", (user.id,)).fetchone()
    return {k for k in (row[0] if row else "").split(",") if k}


def set_mail_opt_out(store: StateStore, user: User, kinds: set[str], known: set[str]) -> None:
    """Turn off exactly these kinds of optional e-mail (unknown kinds are refused)."""
    unknown = kinds - known
    if unknown:
        raise BadInputError(f"notifications: unknown kind {sorted(unknown)[0]!r}")
    with store.write() as conn:
        conn.execute("UPDATE users SET mail_opt_out=? WHERE id=?",
                     (",".join(sorted(kinds)), user.id))
        audit.record(conn, user.email, "user.mail-choices", f"user:{user.email}",
                     "off: " + (", ".join(sorted(kinds)) or "none"))


# -- signing in ----------------------------------------------------------------------------

def _locked_for(conn: sqlite3.Connection, key: str, limit: int, lockout: int,
                now: float) -> float:
    """Seconds left before the account at this address may try again (0 when it may).

    After `limit` failures within the counting window, each further failure locks the pair
    for `lockout` seconds from that failure: slow for a guesser, never permanent.
    """
    if lockout <= 0:
        return 0.0
    return throttle.wait_for(conn, throttle.Limit(key, limit, max(lockout, COUNT_WINDOW),
                                                  lockout), now)


def _address_locked_for(conn: sqlite3.Connection, address_prefix: str, limit: int,
                        lockout: int, now: float) -> float:
    """Seconds left while one address has failed on `limit` different accounts recently
    (someone trying passwords across accounts); one person's mistakes count once."""
    # Pair keys are "pair:<address>|<email>"; '}' sorts just after '|', closing the range.
    row = conn.execute(
        "SELECT COUNT(DISTINCT key), MAX(at) FROM attempts WHERE key>=? AND key<? AND at>?",
        (address_prefix, address_prefix[:-1] + "}", now - max(lockout, COUNT_WINDOW))
    ).fetchone()
    return max(0.0, row[1] + lockout - now) if row[0] >= limit else 0.0


def authenticate(store: StateStore, email: str, password: str, client: str,
                 policy: LoginPolicy, clock: Callable[[], float] = time.time) -> User:
    """Check a password; after repeated failures refuse for a while with TooManyRequestsError,
    without running the hash (no permanent lockout).

    Failures count per account *and* address: a teacher mistyping their password slows only
    themselves at that address, not colleagues behind the same school address, and a stranger
    elsewhere cannot lock the owner out. An address failing on many accounts is slowed too.
    """
    address_prefix = f"pair:{client[:64]}|"
    key_pair = address_prefix + email.strip().lower()[:254]
    now = clock()
    with store.read() as conn:
        wait = max(_locked_for(conn, key_pair, policy.max_failures, policy.lockout_seconds, now),
                   _address_locked_for(conn, address_prefix, policy.max_failures * IP_FACTOR,
                                       policy.lockout_seconds, now))
        row = conn.execute(f"SELECT {_COLUMNS}, password_hash FROM users WHERE email=?",
                           (email.strip().lower(),)).fetchone()
    if wait > 0:
        raise TooManyRequestsError(f"too many failed sign-ins; try again in {int(wait) + 1} "
                                   "seconds", int(wait) + 1)
    user = _user(row[:7]) if row else None
    stored_hash = row[7] if row else _dummy_hash()
    try:
        ok = _HASHER.verify(stored_hash, password[:MAX_PASSWORD]) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or user.disabled:
        with store.write() as conn:
            throttle.record(conn, [key_pair], now)
            audit.record(conn, "anonymous", "login.failed",
                         f"user:{email.strip().lower()[:254]}", f"from {client[:64]}")
        raise AuthenticationError("that e-mail address and password were not recognised")
    with store.write() as conn:
        throttle.clear(conn, [key_pair])
        if _HASHER.check_needs_rehash(stored_hash):
            conn.execute("UPDATE users SET password_hash=? WHERE id=?",
                         (_HASHER.hash(password), user.id))
    return user


def _dummy_hash() -> str:
    # Unknown accounts still pay for one hash, so timing does not reveal who has an account.
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(_HASHER.hash(secrets.token_hex(16)))
    return _DUMMY_HASH[0]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def start_session(store: StateStore, user: User, policy: LoginPolicy,
                  clock: Callable[[], float] = time.time) -> str:
    """A new random session id (only its hash is stored); returned for the cookie."""
    token = secrets.token_urlsafe(32)
    now = clock()
    with store.write() as conn:
        conn.execute("DELETE FROM sessions WHERE expires_at<?", (now,))
        conn.execute("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) "
                     "VALUES (?,?,?,?)",
                     (_token_hash(token), user.id, now, now + policy.session_hours * 3600))
        audit.record(conn, user.email, "login", f"user:{user.email}")
    return token


def session_user(store: StateStore, token: str, clock: Callable[[], float] = time.time
                 ) -> User | None:
    """The enabled user a live session id belongs to, or None."""
    if not token or len(token) > 200:
        return None
    with store.read() as conn:
        row = conn.execute(
            f"SELECT {', '.join('u.' + c for c in _COLUMNS.split(', '))} FROM sessions s "
            "JOIN users u ON u.id=s.user_id WHERE s.token_hash=? AND s.expires_at>? "
            "AND u.disabled=0", (_token_hash(token), clock())).fetchone()
    return _user(row)


def end_session(store: StateStore, token: str, actor: str = "") -> None:
    """Invalidate a session id server-side (a replayed cookie then signs nobody in)."""
    with store.write() as conn:
        conn.execute("DELETE FROM sessions WHERE token_hash=?", (_token_hash(token),))
        if actor:
            audit.record(conn, actor, "logout", f"user:{actor}")
