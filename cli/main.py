"""The root `kb` command: groups the kb, indexer and web commands under one CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from cli.index import COMMANDS as INDEXER_COMMANDS
from cli.accounts import COMMANDS as ADMIN_COMMANDS
from cli.content import COMMANDS as KB_COMMANDS
from kb.errors import KBError
from kb.settings import EMBEDDERS, load_settings
from cli.curation import COMMANDS as CURATION_COMMANDS

# The benchmark sets beside the project (see ../shared/datasets/README.md).
DEFAULT_CORPUS = Path("../shared/datasets/msmarco")


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


for command in KB_COMMANDS + INDEXER_COMMANDS + CURATION_COMMANDS + ADMIN_COMMANDS:
    cli.add_command(command)


@cli.command()
@click.option("--requests", default=300, show_default=True, type=click.IntRange(10, 10_000),
              help="API requests per latency series.")
@click.option("--scale", is_flag=True,
              help="Instead: measure the vector index at growing sizes (see README, Scale).")
@click.option("--embedders", is_flag=True,
              help="Instead: compare the embedding backends (documents/s, query ms, nDCG@10).")
@click.option("--sizes", default="10k,100k,1m", show_default=True,
              help="Index sizes for --scale, e.g. 10000,100000.")
@click.option("--queries", default=300, show_default=True, type=click.IntRange(10, 10_000),
              help="Queries per size for --scale.")
@click.option("--corpus", "corpora", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help="A BEIR folder: for --scale its passages join the library's as base "
                   "vectors; for --embedders its documents are embedded (repeatable).")
@click.option("--limit", default=0, show_default=True, type=click.IntRange(0),
              help="For --embedders: documents per corpus (0 = all, which also gives nDCG@10).")
@click.option("--random-base", is_flag=True,
              help="For --scale: clustered random base vectors, no model (quick; optimistic).")
@click.option("--plot", type=click.Path(path_type=Path), default=Path("docs/scale.png"),
              show_default=True, help="Where --scale draws its plot.")
@click.option("--json", "as_json", is_flag=True,
              help="For --scale and --embedders: one JSON object per row.")
@click.pass_context
def bench(ctx: click.Context, requests: int, scale: bool, embedders: bool, sizes: str,
          queries: int, corpora: tuple[Path, ...], limit: int, random_base: bool, plot: Path,
          as_json: bool) -> None:
    """Measure index build, one-edit reindex, cold start, API latency and peak memory."""
    if scale and embedders:
        raise click.UsageError("--scale and --embedders are two separate benchmarks; "
                               "choose one of them")
    _refuse_options_of_other_benchmarks(ctx, "scale" if scale else
                                        "embedders" if embedders else "api")
    if scale:
        from bench.scale import parse_sizes, scale_bench

        scale_bench(ctx.obj, parse_sizes(sizes), queries, corpora, random_base, plot, as_json,
                    echo=click.echo, progress=lambda line: click.echo(line, err=True))
        return
    if embedders:
        from bench.embedders import format_table, run_embedder_bench

        rows = run_embedder_bench(ctx.obj, list(corpora) or [DEFAULT_CORPUS], limit,
                                  echo=lambda line: click.echo(line, err=True))
        click.echo("\n".join(json.dumps(row) for row in rows) if as_json else format_table(rows))
        return
    from bench.api import run_bench

    figures = run_bench(ctx.obj, requests=requests)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        click.echo(f"{key:<{width}}  {value:10.2f}")


# Which of kb bench's benchmarks each of its own options belongs to.
BENCH_OPTIONS = {
    "requests": ("api",), "sizes": ("scale",), "queries": ("scale",),
    "random_base": ("scale",), "plot": ("scale",), "limit": ("embedders",),
    "corpora": ("scale", "embedders"), "as_json": ("scale", "embedders"),
}
BENCH_FLAGS = {"api": "the API benchmark (kb bench without --scale or --embedders)",
               "scale": "--scale", "embedders": "--embedders"}


def _refuse_options_of_other_benchmarks(ctx: click.Context, chosen: str) -> None:
    """An option given for a benchmark that is not running would be silently ignored."""
    for param in ctx.command.params:
        owners = BENCH_OPTIONS.get(param.name or "")
        given = ctx.get_parameter_source(param.name or "") == ParameterSource.COMMANDLINE
        if owners and given and chosen not in owners:
            raise click.UsageError(
                f"{param.opts[0]} is for {' and '.join(BENCH_FLAGS[o] for o in owners)}, "
                f"not for {BENCH_FLAGS[chosen]}")


def main() -> None:
    cli(prog_name="kb")
