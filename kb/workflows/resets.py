"""Password reset by e-mail: a random single-use link, stored hashed, that expires; asking
never reveals whether an address has an account, and is rate-limited per address, per
account and per client; using it ends every session of the account."""

from __future__ import annotations

import secrets
import time
from typing import Callable

from kb.errors import BadInputError
from kb.mail import letters, outbox
from kb.mail.compose import build_message
from kb.settings import Settings
from kb.state import audit, throttle
from kb.state.accounts import (
    EMAIL_RE,
    LoginPolicy,
    User,
    check_password,
    get_user,
    hash_password,
)
from kb.state.database import StateStore
from kb.workflows.invitations import TokenError, link_limits, token_hash, use_link

CLIENT_FACTOR = 10  # one client address may ask this many times more than one e-mail address
HOUR = 3600.0


def request_reset(store: StateStore, settings: Settings, email: str, client: str,
                  clock: Callable[[], float] = time.time) -> str:
    """Queue a reset link for the account of `email`, if there is one. Returns the link (for
    the CLI) or '' — callers show the same answer either way. Asking is limited per address
    (whether or not it has an account, so the limit tells nothing) and per client address:
    TooManyRequestsError past either."""
    email = email.strip().lower()[:254]
    now = clock()
    limit = settings.resets_per_hour
    key_email, key_client = "reset:" + email, "reset-client:" + client[:64]
    with store.write() as conn:
        throttle.check(conn, [throttle.Limit(key_client, limit * CLIENT_FACTOR, HOUR)], now,
                       "too many password resets have been asked for from this network in the "
                       "last hour")
        throttle.check(conn, [throttle.Limit(key_email, limit, HOUR)], now,
                       f"a reset link has been asked for {email} {limit} times in the last "
                       "hour. If one arrived, it still works")
        throttle.record(conn, [key_email, key_client], now)
        row = None
        if EMAIL_RE.match(email):
            row = conn.execute("SELECT id, name, disabled FROM users WHERE email=?",
                               (email,)).fetchone()
        if row is None or row[2]:
            return ""
        account_count = conn.execute("SELECT count(*) FROM reset_tokens WHERE user_id=? AND "
                                     "created_at>?", (row[0], now - HOUR)).fetchone()[0]
        if account_count >= limit:
            return ""
        token = secrets.token_urlsafe(32)
        conn.execute("INSERT INTO reset_tokens (token_hash, user_id, created_at, expires_at) "
                     "VALUES (?,?,?,?)",
                     (token_hash(token), row[0], now, now + settings.reset_minutes * 60))
        link = f"{settings.site_url}/reset/{token}"
        letter = letters.password_reset(email, row[1], link, settings.reset_minutes)
        outbox.enqueue(conn, build_message(letter, settings.mail_from), "password-reset")
        audit.record(conn, "anonymous", "password.reset-requested", f"user:{email}",
                     f"from {client[:64]}")
    return link


def _usable(row: tuple | None, now: float) -> int:  # type: ignore[type-arg]
    if row is None:
        raise TokenError("unknown", "This reset link is not valid. Check that the whole link "
                         "was copied, or ask for a new one.")
    user_id, expires_at, used_at, disabled = row
    if used_at:
        raise TokenError("used", "This reset link has been used already. Ask for a new one if "
                         "you need to.")
    if now >= expires_at or disabled:
        raise TokenError("expired", "This reset link has expired. Ask for a new one.")
    return int(user_id)


_FIND = ("SELECT r.user_id, r.expires_at, r.used_at, u.disabled FROM reset_tokens r "
         "JOIN users u ON u.id=r.user_id WHERE r.token_hash=?")


def check_token(store: StateStore, token: str, clock: Callable[[], float] = time.time) -> None:
    """Raise TokenError unless the link can still be used."""
    with store.read() as conn:
        _usable(conn.execute(_FIND, (token_hash(token[:200]),)).fetchone(), clock())


def complete_reset(store: StateStore, settings: Settings, token: str, password: str, *,
                   confirm: str | None = None, client: str = "",
                   policy: LoginPolicy = LoginPolicy(),
                   clock: Callable[[], float] = time.time) -> User:
    """Set the new password (and `confirm`, when given, the same again), spend the token (and
    any other of the account's), end every session of the account, and tell the owner by
    e-mail, all in one transaction. Failed tries are throttled like signing in."""
    now = clock()
    with store.read() as conn:
        row = conn.execute(_FIND, (token_hash(token[:200]),)).fetchone() if token else None
    limits = link_limits("reset-use", client, str(row[0]) if row else "", policy)

    def attempt() -> User:
        if confirm is not None and password != confirm:
            _usable(row, now)  # a link that cannot be used says so first
            raise BadInputError("the two passwords are not the same")
        return _complete(store, settings, token, password, now, limits[1])

    return use_link(store, limits, now, "there have been too many tries with this reset link "
                    "in the last few minutes. The pause slows down anyone guessing links",
                    attempt)


def _complete(store: StateStore, settings: Settings, token: str, password: str, now: float,
              keys: list[str]) -> User:
    check_password(password)
    digest = hash_password(password)
    with store.write() as conn:
        user_id = _usable(conn.execute(_FIND, (token_hash(token[:200]),)).fetchone(), now)
        conn.execute("UPDATE users SET password_hash=? WHERE id=?", (digest, user_id))
        conn.execute("UPDATE reset_tokens SET used_at=? WHERE user_id=? AND used_at IS NULL",
                     (now, user_id))
        conn.execute("DELETE FROM sessions WHERE user_id=?", (user_id,))
        email, name = conn.execute("SELECT email, name FROM users WHERE id=?",
                                   (user_id,)).fetchone()
        throttle.clear(conn, keys)
        outbox.enqueue(conn, build_message(letters.password_changed(email, name,
                                                                     settings.site_url),
                                           settings.mail_from), "password-changed")
        audit.record(conn, email, "password.reset", f"user:{email}", "every session ended")
    return get_user(store, email)

