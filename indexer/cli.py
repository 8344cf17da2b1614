"""CLI commands that drive the indexer: index, search."""

from __future__ import annotations

import click

from indexer.embedding import create_embedder
from indexer.pipeline import index_content
from indexer.records import FILTER_FIELDS
from indexer.search import SearchEngine, SearchQuery
from kb.settings import Settings


def settings_of(ctx: click.Context) -> Settings:
    return ctx.find_root().obj  # type: ignore[no-any-return]


@click.command()
@click.option("--full", is_flag=True, help="Rebuild everything instead of updating.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def index(ctx: click.Context, full: bool, quiet: bool) -> None:
    """Validate content/practice and bring the search index up to date (incremental)."""
    settings = settings_of(ctx)
    embedder = create_embedder(settings.model, settings.embedder, settings.data_dir)
    library, report = index_content(settings, embedder, full=full, progress=not quiet)
    for problem in sorted(library.errors):
        click.echo(f"skipped: {problem}", err=True)
    what = (f"{len(report.added)} added, {len(report.updated)} updated, "
            f"{len(report.removed)} removed, {report.unchanged} unchanged")
    if report.changed:
        click.echo(f"Index {report.generation}: {what}; {report.chunks_embedded} passages "
                   f"embedded in {report.seconds:.1f}s ({report.reason}).")
    else:
        click.echo(f"Index {report.generation} is up to date ({what}).")
    if library.skipped:
        click.echo(f"{len(library.skipped)} invalid write-up(s) skipped; run `kb validate`.",
                   err=True)


def filter_options(func):  # type: ignore[no-untyped-def]
    """Add a repeatable --<field> option for every filter field."""
    for name in reversed(FILTER_FIELDS):
        flag = "--" + name.replace("_", "-")
        func = click.option(flag, name, multiple=True,
                            help=f"Only write-ups with this {name} (repeatable).")(func)
    return func


@click.command()
@click.argument("query", default="")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@filter_options
@click.pass_context
def search(ctx: click.Context, query: str, limit: int, **filters: tuple[str, ...]) -> None:
    """Search the index and print ranked results with scores."""
    settings = settings_of(ctx)
    embedder = create_embedder(settings.model, settings.embedder, settings.data_dir)
    engine = SearchEngine(settings.index_dir, embedder, max_query_chars=settings.max_query_chars)
    results = engine.search(SearchQuery(query, {k: v for k, v in filters.items() if v},
                                        page_size=limit))
    for notice in results.notices:
        click.echo(notice, err=True)
    click.echo(f"{results.total} matching write-ups ({results.mode}, {results.took_ms:.0f} ms)")
    for n, hit in enumerate(results.hits, start=1):
        click.echo(f"{n:2d}. {hit.score:.3f}  {hit.doc.title}  [{hit.doc.slug}]")
        if hit.section:
            click.echo(f"      {hit.section}: " + "".join(t for t, _ in hit.snippet)[:160])


COMMANDS = [index, search]
