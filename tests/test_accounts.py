"""Accounts: argon2 hashes, roles, sessions, throttled sign-in, and the `kb user` and
`kb backup` commands (reliability rows 14 and 33 at the library level)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from cli.main import cli
from kb.content.library import load_reference
from kb.errors import (
    AuthenticationError,
    BadInputError,
    ConflictError,
    NotFoundError,
    TooManyRequestsError,
)
from kb.settings import Settings
from kb.state import accounts
from kb.state.accounts import LoginPolicy, add_user, authenticate, session_user, start_session
from kb.state.database import open_state

PASSWORD = "a long enough password"


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    return open_state(tmp_path / "state.db")


@pytest.fixture(scope="module")
def directory():  # type: ignore[no-untyped-def]
    return load_reference(ROOT / "content")[1]


class Clock:
    """A settable clock, so lockout windows can pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_passwords_are_stored_as_argon2id_hashes_only(store, directory) -> None:  # type: ignore
    user = add_user(store, directory, " Cara@Example.ORG ", PASSWORD, "contributor",
                    school="Ashcombe Academy")
    assert (user.email, user.school, user.family) == ("cara@example.org", "ashcombe-academy",
                                                      "brackenford")
    raw = store.path.read_bytes()
    assert PASSWORD.encode() not in raw
    with store.read() as conn:
        digest = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert digest.startswith("$argon2id$")


@pytest.mark.parametrize("email, password, role, school, message", [
    ("not-an-email", PASSWORD, "reader", None, "not an e-mail"),
    ("a@example.org", "short", "reader", None, "10 to 1024"),
    ("a@example.org", PASSWORD, "superuser", None, "not one of"),
    ("a@example.org", PASSWORD, "contributor", None, "belongs to a school"),
    ("a@example.org", PASSWORD, "contributor", "Hogwarts", "unknown school"),
])
def test_bad_account_details_are_refused_clearly(store, directory, email: str,  # type: ignore
                                                 password: str, role: str, school: str | None,
                                                 message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        add_user(store, directory, email, password, role, school=school)
    assert accounts.list_users(store) == []


def test_duplicate_email_is_a_conflict_in_any_case(store, directory) -> None:  # type: ignore
    add_user(store, directory, "a@example.org", PASSWORD, "reader")
    with pytest.raises(ConflictError):
        add_user(store, directory, "A@EXAMPLE.org", PASSWORD, "reader")


def test_sign_in_session_and_sign_out(store, directory) -> None:  # type: ignore
    add_user(store, directory, "a@example.org", PASSWORD, "moderator")
    user = authenticate(store, "A@example.org", PASSWORD, "1.2.3.4", LoginPolicy())
    token = start_session(store, user, LoginPolicy())
    assert session_user(store, token) == user
    with store.read() as conn:  # only a hash of the session id is stored
        assert conn.execute("SELECT count(*) FROM sessions WHERE token_hash=?",
                            (token,)).fetchone()[0] == 0
    accounts.end_session(store, token)
    assert session_user(store, token) is None


def test_sessions_expire_and_end_when_the_account_changes(store, directory) -> None:  # type: ignore
    add_user(store, directory, "a@example.org", PASSWORD, "moderator")
    clock = Clock()
    user = accounts.get_user(store, "a@example.org")
    token = start_session(store, user, LoginPolicy(session_hours=1), clock)
    clock.now += 3601
    assert session_user(store, token, clock) is None
    token = start_session(store, user, LoginPolicy())
    accounts.set_role(store, "a@example.org", "reader")
    assert session_user(store, token) is None  # a role change signs the user out
    token = start_session(store, accounts.get_user(store, "a@example.org"), LoginPolicy())
    accounts.set_disabled(store, "a@example.org", True)
    assert session_user(store, token) is None
    with pytest.raises(AuthenticationError):
        authenticate(store, "a@example.org", PASSWORD, "ip", LoginPolicy())


def test_repeated_failures_lock_for_a_while_then_sign_in_works(store, directory) -> None:  # type: ignore
    """Reliability row 33 (library level): throttled, never permanently locked."""
    add_user(store, directory, "a@example.org", PASSWORD, "reader")
    clock, policy = Clock(), LoginPolicy(max_failures=3, lockout_seconds=60)
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            authenticate(store, "a@example.org", "wrong password!", "ip1", policy, clock)
        clock.now += 1
    for _ in range(10):  # refused without checking, even with the right password
        with pytest.raises(TooManyRequestsError) as info:
            authenticate(store, "a@example.org", PASSWORD, "ip1", policy, clock)
        assert 0 < info.value.retry_after <= 60
    clock.now += 61
    assert authenticate(store, "a@example.org", PASSWORD, "ip1", policy, clock).email == \
        "a@example.org"


def test_one_address_guessing_many_accounts_is_slowed(store, directory) -> None:  # type: ignore
    clock, policy = Clock(), LoginPolicy(max_failures=2, lockout_seconds=60)
    for i in range(2 * accounts.IP_FACTOR):
        with pytest.raises(AuthenticationError):
            authenticate(store, f"user{i}@example.org", "guess guess", "9.9.9.9", policy, clock)
    with pytest.raises(TooManyRequestsError):
        authenticate(store, "fresh@example.org", "guess guess", "9.9.9.9", policy, clock)
    with pytest.raises(AuthenticationError):  # another address is not affected
        authenticate(store, "fresh@example.org", "guess guess", "8.8.8.8", policy, clock)


# -- the command line ------------------------------------------------------------------

def run(settings: Settings, *args: str, code: int = 0, stdin: str | None = None) -> str:
    result = CliRunner().invoke(
        cli, ["--content-dir", str(settings.content_dir), "--data-dir", str(settings.data_dir),
              *args], input=stdin, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def cli_settings(tmp_path: Path) -> Settings:
    return Settings(content_dir=ROOT / "content", data_dir=tmp_path / "var")


def test_first_admin_and_users_from_the_command_line(cli_settings: Settings) -> None:
    assert "No accounts yet" in run(cli_settings, "user", "list")
    out = run(cli_settings, "user", "add", "boss@example.org", "--role", "admin",
              "--password-stdin", stdin=PASSWORD + "\n")
    assert "Added boss@example.org (admin)" in out
    run(cli_settings, "user", "add", "c@example.org", "--role", "contributor",
        "--password-stdin", stdin=PASSWORD + "\n", code=1)
    out = run(cli_settings, "user", "add", "c@example.org", "--role", "contributor",
              "--school", "Tollgate Primary School", "--name", "Chris", "--password-stdin",
              stdin=PASSWORD + "\n")
    assert "tollgate-primary" in out
    listing = run(cli_settings, "user", "list")
    assert "boss@example.org" in listing and "Chris" in listing
    assert "is now moderator" in run(cli_settings, "user", "set-role", "c@example.org",
                                     "moderator")
    assert "disabled" in run(cli_settings, "user", "disable", "c@example.org")
    assert "(disabled)" in run(cli_settings, "user", "list")
    assert "enabled" in run(cli_settings, "user", "enable", "c@example.org")
    run(cli_settings, "user", "set-password", "c@example.org", "--password-stdin",
        stdin="another long password\n")
    store = open_state(cli_settings.state_path)
    assert authenticate(store, "c@example.org", "another long password", "ip",
                        LoginPolicy()).role == "moderator"
    out = run(cli_settings, "user", "disable", "nobody@example.org", code=1)
    assert "no account" in out


def test_backup_command_copies_the_state_database(cli_settings: Settings,
                                                  tmp_path: Path) -> None:
    run(cli_settings, "user", "add", "boss@example.org", "--role", "admin", "--password-stdin",
        stdin=PASSWORD + "\n")
    target = tmp_path / "backup.db"
    out = run(cli_settings, "backup", str(target))
    assert "1 accounts" in out and "Integrity check: ok" in out
    conn = sqlite3.connect(target)
    assert conn.execute("SELECT email FROM users").fetchone()[0] == "boss@example.org"
    conn.close()
    assert "already exists" in run(cli_settings, "backup", str(target), code=1)
    run(cli_settings, "backup", str(target), "--force")


def test_audit_command_lists_actions_newest_first(cli_settings: Settings) -> None:
    run(cli_settings, "user", "add", "boss@example.org", "--role", "admin", "--password-stdin",
        stdin=PASSWORD + "\n")
    run(cli_settings, "user", "set-role", "boss@example.org", "moderator")
    lines = run(cli_settings, "audit").splitlines()
    assert "user.set-role" in lines[0] and "admin -> moderator" in lines[0]
    assert "user.add" in lines[1]
    assert run(cli_settings, "audit", "--target", "user:nobody").strip() == ""


def test_unknown_user_lookup_names_the_command(store) -> None:  # type: ignore
    with pytest.raises(NotFoundError, match="kb user list"):
        accounts.get_user(store, "ghost@example.org")
