"""CLI commands for accounts and the application database: `kb user ...` and `kb backup`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kb.content.library import load_reference
from kb.errors import BadInputError
from kb.settings import Settings
from kb.state import accounts
from kb.state import audit as audit_log
from kb.state.database import StateStore, open_state
from kb.state.database import backup as backup_state


def _store(ctx: click.Context) -> tuple[Settings, StateStore]:
    settings: Settings = ctx.find_root().obj
    return settings, open_state(settings.state_path)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if password.endswith("\r"):
            password = password[:-1]
        if not password:
            raise BadInputError("--password-stdin: no password on standard input")
        return password
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group()
def user() -> None:
    """Manage accounts: add, list, set-role, disable, enable, set-password."""


@user.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(accounts.ROLES),
              help=", ".join(accounts.ROLES) + ".")
@click.option("--school", default=None, help="School id or name (required for contributors).")
@click.option("--name", default=None, help="Name shown on pages (default: from the e-mail).")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@click.pass_context
def user_add(ctx: click.Context, email: str, role: str, school: str | None, name: str | None,
             password_stdin: bool) -> None:
    """Create an account (the first admin is created this way)."""
    settings, store = _store(ctx)
    _, directory = load_reference(settings.content_dir)
    created = accounts.add_user(store, directory, email, _read_password(password_stdin), role,
                                school=school, name=name)
    where = f" at {created.school}" if created.school else ""
    click.echo(f"Added {created.email} ({created.role}{where}).")


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """Every account with its role, school and whether it is disabled."""
    _, store = _store(ctx)
    users = accounts.list_users(store)
    if not users:
        click.echo("No accounts yet. Add the first admin with `kb user add EMAIL --role admin`.")
    for u in users:
        state = "  (disabled)" if u.disabled else ""
        click.echo(f"{u.email:<40} {u.role:<12} {u.school or '-':<32} {u.name}{state}")


@user.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(accounts.ROLES))
@click.pass_context
def user_set_role(ctx: click.Context, email: str, role: str) -> None:
    """Change an account's role (its sessions end, so the change applies at once)."""
    _, store = _store(ctx)
    changed = accounts.set_role(store, email, role)
    click.echo(f"{changed.email} is now {changed.role}.")


@user.command("disable")
@click.argument("email")
@click.pass_context
def user_disable(ctx: click.Context, email: str) -> None:
    """Stop an account signing in and end its sessions; its work stays."""
    _, store = _store(ctx)
    changed = accounts.set_disabled(store, email, True)
    click.echo(f"{changed.email} is disabled.")


@user.command("enable")
@click.argument("email")
@click.pass_context
def user_enable(ctx: click.Context, email: str) -> None:
    """Let a disabled account sign in again."""
    _, store = _store(ctx)
    changed = accounts.set_disabled(store, email, False)
    click.echo(f"{changed.email} is enabled.")


@user.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@click.pass_context
def user_set_password(ctx: click.Context, email: str, password_stdin: bool) -> None:
    """Set a new password (signs the account out everywhere)."""
    _, store = _store(ctx)
    changed = accounts.set_password(store, email, _read_password(password_stdin))
    click.echo(f"New password set for {changed.email}.")


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@click.pass_context
def backup(ctx: click.Context, path: Path, force: bool) -> None:
    """Copy the application database (accounts, submissions, revisions) safely while the
    site runs. PATH may be a file or a folder."""
    _, store = _store(ctx)
    report = backup_state(store, path, overwrite=force)
    click.echo(f"Backed up to {report.path} ({report.bytes:,} bytes: {report.users} accounts, "
               f"{report.submissions} submissions, {report.revisions} revisions). "
               "Integrity check: ok.")


@click.command()
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000),
              help="How many entries, newest first.")
@click.option("--target", default=None,
              help="Only entries about one thing, e.g. practice:SLUG or submission:ID.")
@click.pass_context
def audit(ctx: click.Context, limit: int, target: str | None) -> None:
    """Show the audit log: sign-ins, account changes, submissions, reviews, publications."""
    _, store = _store(ctx)
    for entry in audit_log.entries(store, target=target, limit=limit):
        detail = f"  {entry.detail}" if entry.detail else ""
        click.echo(f"{entry.at}  {entry.actor:<28} {entry.action:<26} {entry.target}{detail}")


COMMANDS = [user, backup, audit]
