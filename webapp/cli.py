"""The root `kb` command: groups the kb, indexer and web commands under one CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from indexer.cli import COMMANDS as INDEXER_COMMANDS
from kb.cli import COMMANDS as KB_COMMANDS
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


for command in KB_COMMANDS + INDEXER_COMMANDS:
    cli.add_command(command)


@cli.command()
@click.option("--requests", default=300, show_default=True, type=click.IntRange(10, 10_000),
              help="API requests per latency series.")
@click.option("--embedders", is_flag=True,
              help="Compare the embedding backends instead (documents/s, query latency).")
@click.option("--corpus", type=click.Path(path_type=Path), default=None,
              help="BEIR corpus.jsonl for --embedders (default "
                   "../shared/datasets/msmarco/corpus.jsonl).")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(0),
              help="Documents to embed for --embedders (0 = all).")
@click.pass_context
def bench(ctx: click.Context, requests: int, embedders: bool, corpus: Path | None,
          limit: int) -> None:
    """Measure index build, one-edit reindex, cold start, API latency and peak memory."""
    from webapp.bench import run_bench

    if embedders:
        from webapp.bench_embedders import DEFAULT_CORPUS, format_table, run_embedder_bench

        table = run_embedder_bench(ctx.obj, corpus or DEFAULT_CORPUS, limit,
                                   echo=lambda line: click.echo(line, err=True))
        click.echo(format_table(table))
        return

    figures = run_bench(ctx.obj, requests=requests)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        click.echo(f"{key:<{width}}  {value:10.2f}")


def main() -> None:
    cli(prog_name="kb")
