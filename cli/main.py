"""The root `kb` command: groups the kb, indexer and web commands under one CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.accounts import COMMANDS as ADMIN_COMMANDS
from cli.bench import COMMANDS as BENCH_COMMANDS
from cli.content import COMMANDS as KB_COMMANDS
from cli.curation import COMMANDS as CURATION_COMMANDS
from cli.index import COMMANDS as INDEXER_COMMANDS
from cli.schools import COMMANDS as SCHOOL_COMMANDS
from kb.errors import KBError
from kb.settings import EMBEDDERS, load_settings


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
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, no_index: bool) -> None:
    """Update the index, then serve the web site and API."""
    import uvicorn

    from webapp.app import create_app

    settings = ctx.obj.with_overrides(host=host, port=port)
    app = create_app(settings, update_on_start=not no_index)
    click.echo(f"Serving on http://{settings.host}:{settings.port}")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


for command in (KB_COMMANDS + INDEXER_COMMANDS + CURATION_COMMANDS + ADMIN_COMMANDS
                + BENCH_COMMANDS + SCHOOL_COMMANDS):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="kb")
