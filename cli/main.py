"""The root `kb` command: groups the kb, indexer and web commands under one CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from cli.accounts import COMMANDS as ADMIN_COMMANDS
from cli.bench import COMMANDS as BENCH_COMMANDS
from cli.content import COMMANDS as KB_COMMANDS
from cli.curation import COMMANDS as CURATION_COMMANDS
from cli.index import COMMANDS as INDEXER_COMMANDS
from cli.mail import COMMANDS as MAIL_COMMANDS
from cli.mail import USER_COMMANDS
from cli.schools import COMMANDS as SCHOOL_COMMANDS
from kb.errors import KBError
from kb.settings import EMBEDDERS, load_settings, settings_environment


class KBGroup(click.Group):
    """Prints KBError messages without a traceback and exits 1."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except KBError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=KBGroup)
@click.option("--content-dir", type=click.Path(path_type=Path), default=None,
              help="Content folder (default ./content or KB_CONTENT_DIR).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Folder for derived data (default ./var or KB_DATA_DIR).")
@click.option("--model", default=None, help="Embedding model (default: the bundled MiniLM).")
@click.option("--embedder", type=click.Choice(EMBEDDERS), default=None,
              help=f"Embedding backend (default {EMBEDDERS[0]} or KB_EMBEDDER).")
@click.version_option(package_name="practice-kb")
@click.pass_context
def cli(ctx: click.Context, content_dir: Path | None, data_dir: Path | None,
        model: str | None, embedder: str | None) -> None:
    """Knowledge-mobilisation repository for families of schools."""
    ctx.obj = load_settings(content_dir=content_dir, data_dir=data_dir, model=model,
                            embedder=embedder)


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8000).")
@click.option("--no-index", is_flag=True, help="Do not update the index before serving.")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="Worker processes (default: the number of cores).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, no_index: bool,
          workers: int | None) -> None:
    """Update the index, then serve the web site and API from one or more processes."""
    import uvicorn

    from kb.mail.sender import start_sender_thread, transport_for
    from kb.state.database import open_state
    from services.digest import scheduled_digest
    from services.runtime import limit_malloc_arenas

    limit_malloc_arenas()  # before the model and the request threads start
    settings = ctx.obj.with_overrides(host=host, port=port)
    workers = workers or os.cpu_count() or 1
    # Mail goes out off the request path: this thread (in the one process, or in the parent
    # of the workers) drains the outbox every few seconds.
    # It also queues the weekly digest when due (the database lets one process per week).
    state = open_state(settings.state_path)
    stop = start_sender_thread(state, lambda: transport_for(
        settings.smtp_url, settings.mail_from, settings.outbox_dir, settings.smtp_ca),
        first=scheduled_digest(state, settings))
    where = "over " + settings.smtp_url.split("@")[-1] if settings.smtp_url else \
        f"as files in {settings.outbox_dir}"
    click.echo(f"Serving on http://{settings.host}:{settings.port} "
               f"({workers} worker process{'es' if workers > 1 else ''}); e-mail is sent {where}")
    try:
        if workers == 1:
            from webapp.app import create_app

            app = create_app(settings, update_on_start=not no_index)
            uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
            return
        if not no_index:  # once, here, before the workers start (they only read generations)
            from indexer.pipeline import index_content
            from services.runtime import load_embedder

            index_content(settings, load_embedder(settings), progress=False)
        # Each worker builds its own app from these settings, read back from the environment.
        os.environ.update(settings_environment(settings))
        uvicorn.run("webapp.app:app_from_environment", factory=True, workers=workers,
                    host=settings.host, port=settings.port, log_level="info")
    finally:
        stop.set()


for command in (KB_COMMANDS + INDEXER_COMMANDS + CURATION_COMMANDS + ADMIN_COMMANDS
                + BENCH_COMMANDS + MAIL_COMMANDS + SCHOOL_COMMANDS):
    cli.add_command(command)
for command in USER_COMMANDS:
    ADMIN_COMMANDS[0].add_command(command)  # kb user invite / invitations / reset


def main() -> None:
    cli(prog_name="kb")
