"""CLI commands for e-mail: `kb mail send` (deliver the outbox) and `kb mail list`; and the
invitation and reset commands added to `kb user`, which print their links for offline use."""

from __future__ import annotations

import time
from pathlib import Path

import click

from kb.content.library import load_reference
from kb.mail import outbox
from kb.mail.sender import send_due, transport_for
from kb.settings import Settings
from kb.state.accounts import User
from kb.state.database import open_state
from kb.workflows import invitations, resets

# The shell's owner acts as an administrator (the audit log names them "cli").
CLI_ADMIN = User(0, "cli", "The library's administrator", "admin", "", "", False)


def _settings(ctx: click.Context) -> Settings:
    return ctx.find_root().obj  # type: ignore[no-any-return]


@click.group()
def mail() -> None:
    """The outbox: send, digest, list."""


@mail.command("send")
@click.option("--watch", is_flag=True, help="Keep sending every few seconds until stopped.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds between rounds with --watch.")
@click.pass_context
def mail_send(ctx: click.Context, watch: bool, interval: float) -> None:
    """Deliver queued messages (KB_SMTP_URL, or .eml files under <data dir>/outbox/)."""
    settings = _settings(ctx)
    store = open_state(settings.state_path)
    while True:
        transport = transport_for(settings.smtp_url, settings.mail_from, settings.outbox_dir,
                                  settings.smtp_ca)
        report = send_due(store, transport)
        where = settings.smtp_url.split("@")[-1] if settings.smtp_url else settings.outbox_dir
        if report.sent or report.errors or not watch:
            click.echo(f"{report.sent} sent ({where}), {report.retrying} to retry, "
                       f"{report.failed} failed.")
        for error in report.errors or []:
            click.echo(f"  {error}", err=True)
        if not watch:
            return
        time.sleep(interval)


@mail.command("digest")
@click.pass_context
def mail_digest(ctx: click.Context) -> None:
    """Queue the weekly digest now for everyone whose followed searches are due (each search
    is in at most one digest a week). `kb serve` sends it by itself every KB_DIGEST_DAY at
    KB_DIGEST_HOUR UTC."""
    from services.digest import send_digests
    from services.runtime import open_engine

    settings = _settings(ctx)
    taxonomy, directory = load_reference(settings.content_dir)
    report = send_digests(open_state(settings.state_path), open_engine(settings), taxonomy,
                          directory, settings)
    click.echo(f"{report.queued} digest(s) queued for {report.people} follower(s) due; "
               "`kb mail send` (or `kb serve`) delivers them.")


@mail.command("list")
@click.option("--status", type=click.Choice(["queued", "sent", "failed"]), default=None)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_context
def mail_list(ctx: click.Context, status: str | None, limit: int) -> None:
    """Messages in the outbox, newest first, with their state and last error."""
    store = open_state(_settings(ctx).state_path)
    for m in outbox.messages(store, status, limit):
        error = f"  ({m.last_error})" if m.last_error else ""
        click.echo(f"{m.id:6d} {m.created_at} {m.status:<7} {m.kind:<18} {m.recipient}"
                   f"  tries={m.attempts}{error}")


@click.command("invite")
@click.argument("email", required=False)
@click.option("--role", default="", help="The role the account will have.")
@click.option("--school", default="", help="School id or name (contributors, family leads).")
@click.option("--name", default="", help="The invitee's name.")
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Invite everyone in a CSV (email, name, role, school).")
@click.pass_context
def user_invite(ctx: click.Context, email: str | None, role: str, school: str, name: str,
                csv_path: Path | None) -> None:
    """Invite someone by e-mail (or a CSV of people); prints each invitation link."""
    settings = _settings(ctx)
    store = open_state(settings.state_path)
    _, directory = load_reference(settings.content_dir)
    if csv_path is not None:
        result = invitations.invite_csv(store, directory, settings, CLI_ADMIN,
                                        csv_path.read_text(encoding="utf-8-sig"), role=role,
                                        school=school)
        sent, problems = result.sent, result.problems
    else:
        if not email:
            raise click.UsageError("give an EMAIL or --csv FILE")
        if not role:
            raise click.UsageError("give --role")
        sent = [invitations.invite(store, directory, settings, CLI_ADMIN, email=email,
                                   role=role, school=school, name=name)]
        problems = []
    for item in sent:
        click.echo(f"Invited {item.invitation.email} ({item.invitation.role}): {item.link}")
    for problem in problems:
        click.echo(f"Not invited: {problem}", err=True)
    if not settings.smtp_url and sent:
        click.echo(f"No KB_SMTP_URL: the e-mails are written to {settings.outbox_dir} by "
                   "`kb mail send` (or `kb serve`); the links above work as they are.")
    if problems:
        ctx.exit(1)


@click.command("invitations")
@click.pass_context
def user_invitations(ctx: click.Context) -> None:
    """Every invitation with its state (waiting, accepted, expired, revoked)."""
    store = open_state(_settings(ctx).state_path)
    for inv in invitations.list_invitations(store, CLI_ADMIN):
        click.echo(f"{inv.id:5d} {inv.email:<40} {inv.role:<12} {inv.school or '-':<28} "
                   f"{inv.state()}")


@click.command("reset")
@click.argument("email")
@click.pass_context
def user_reset(ctx: click.Context, email: str) -> None:
    """E-mail a password-reset link to an account, and print it."""
    settings = _settings(ctx)
    link = resets.request_reset(open_state(settings.state_path), settings, email, "cli")
    if not link:
        raise click.ClickException(f"no reset link made for {email}: no such enabled account, "
                                   "or it asked too often this hour")
    click.echo(f"Reset link for {email.strip().lower()}: {link}")


USER_COMMANDS = [user_invite, user_invitations, user_reset]
COMMANDS = [mail]
