"""CLI commands that drive the indexer: index, check, search, gaps."""

from __future__ import annotations

import click

from indexer.embedders.factory import create_embedder
from indexer.pipeline import index_content
from indexer.records import FILTER_PARAMS
from indexer.search.engine import SearchQuery
from kb.settings import Settings
from services.runtime import open_engine


def settings_of(ctx: click.Context) -> Settings:
    return ctx.find_root().obj  # type: ignore[no-any-return]


@click.command()
@click.option("--full", is_flag=True, help="Rebuild everything instead of updating.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def index(ctx: click.Context, full: bool, quiet: bool) -> None:
    """Validate content/practice and bring the search index up to date (incremental)."""
    settings = settings_of(ctx)
    embedder = create_embedder(settings.model, settings.embedder, settings.models_dir)
    library, report = index_content(settings, embedder, full=full, progress=not quiet)
    for problem in sorted(library.errors):
        click.echo(f"skipped: {problem}", err=True)
    for material in report.skipped_materials:
        click.echo(f"skipped attached file: {material}", err=True)
    if report.swept:
        click.echo(f"Removed leftovers of interrupted builds: {', '.join(report.swept)}.")
    what = (f"{len(report.added)} added, {len(report.updated)} updated, "
            f"{len(report.removed)} removed, {report.unchanged} unchanged")
    if report.changed:
        click.echo(f"Index {report.generation}: {what}; {report.chunks_embedded} passages "
                   f"and {report.sentences_embedded} sentences embedded in "
                   f"{report.seconds:.1f}s ({report.reason}).")
    else:
        click.echo(f"Index {report.generation} is up to date ({what}).")
    if library.skipped:
        click.echo(f"{len(library.skipped)} invalid write-up(s) skipped; run `kb validate`.",
                   err=True)


@click.command()
@click.option("--no-repair", is_flag=True, help="Only report; exit 1 if the index is damaged.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def check(ctx: click.Context, no_repair: bool, quiet: bool) -> None:
    """Verify the index files against their manifest checksums; rebuild them if damaged."""
    from indexer.integrity import check_index

    settings = settings_of(ctx)
    embedder = create_embedder(settings.model, settings.embedder, settings.models_dir)
    report = check_index(settings, embedder, repair=not no_repair, progress=not quiet)
    if report.swept:
        click.echo(f"Removed leftovers of interrupted builds: {', '.join(report.swept)}.")
    if report.problem is None:
        click.echo(f"Index {report.generation} is intact (checksums, counts and settings "
                   "match its manifest).")
        return
    click.echo(f"Index {report.generation or '(none)'} needs rebuilding: {report.problem}.")
    if report.rebuilt is None:
        raise SystemExit(1)
    click.echo(f"Rebuilt it in full from {settings.content_dir} as {report.rebuilt.generation}: "
               f"{report.rebuilt.chunks_embedded} passages embedded in "
               f"{report.rebuilt.seconds:.1f}s.")


def filter_options(func):  # type: ignore[no-untyped-def]
    """Add a repeatable --<param> option (e.g. --subject, --key-stage) for every filter."""
    for param, field_name in reversed(list(FILTER_PARAMS.items())):
        flag = "--" + param.replace("_", "-")
        func = click.option(flag, field_name, multiple=True,
                            help=f"Only write-ups with this {param.replace('_', ' ')} "
                                 "(repeatable).")(func)
    return func


@click.command()
@click.argument("query", default="")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@filter_options
@click.pass_context
def search(ctx: click.Context, query: str, limit: int, **filters: tuple[str, ...]) -> None:
    """Search the index and print ranked results with scores."""
    engine = open_engine(settings_of(ctx))
    results = engine.search(SearchQuery(query, {k: v for k, v in filters.items() if v},
                                        page_size=limit))
    for notice in results.notices:
        click.echo(notice, err=True)
    click.echo(f"{results.total} matching write-ups ({results.mode}, {results.took_ms:.0f} ms)")
    for n, hit in enumerate(results.hits, start=1):
        click.echo(f"{n:2d}. {hit.score:.3f}  {hit.doc.title}  [{hit.doc.slug}]")
        if hit.section:
            click.echo(f"      {hit.section}: " + "".join(t for t, _ in hit.snippet)[:160])


@click.command()
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3650),
              help="How far back to look in the search log.")
@click.pass_context
def gaps(ctx: click.Context, as_csv: bool, days: int) -> None:
    """Searches that found nothing convincing, grouped by meaning: write-ups to commission."""
    from kb.curation.catalogue import load_curation
    from kb.state.database import open_state
    from services.gaps import gaps_csv, recent_gaps
    from services.runtime import load_embedder

    settings = settings_of(ctx)
    clusters = recent_gaps(open_state(settings.state_path), load_embedder(settings), days,
                           tuning=load_curation(settings).tuning)
    if as_csv:
        click.echo(gaps_csv(clusters), nl=False)
        return
    click.echo(f"{len(clusters)} unmet needs in the last {days} days")
    for cluster in clusters:
        click.echo(f"{cluster.count:4d}  {cluster.label}  ({cluster.first_seen[:10]} to "
                   f"{cluster.last_seen[:10]}; {len(cluster.queries)} wording(s))"
                   + (f"  answered by {cluster.answered}" if cluster.answered else ""))


COMMANDS = [index, check, search, gaps]
