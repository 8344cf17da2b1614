"""The measurement commands: `kb eval` (retrieval quality on BEIR folders) and the `kb bench`
group (api, load, scale, embedders). Their code lives in bench/, imported only when one runs, so
`kb serve` never loads it or its optional extra (matplotlib)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from indexer.embedders.factory import create_embedder
from kb.settings import Settings

# The benchmark sets beside the project (see ../shared/datasets/README.md).
DEFAULT_CORPUS = Path("../shared/datasets/msmarco")


def settings_of(ctx: click.Context) -> Settings:
    return ctx.find_root().obj  # type: ignore[no-any-return]


def echo_err(line: str) -> None:
    click.echo(line, err=True)


@click.command(name="eval")
@click.option("--beir", "folders", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv); repeatable.")
@click.option("--queries", "query_file", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A YAML file of hand-judged teacher queries, run against the content "
                   "folder (e.g. tests/queries.yaml).")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "dense"]), default=None,
              help="Run one mode (default: all three, side by side).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per mode and dataset.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def evaluate_command(ctx: click.Context, folders: tuple[Path, ...], query_file: Path | None,
                     mode: str | None, as_json: bool, quiet: bool) -> None:
    """Measure retrieval quality: BEIR sets (nDCG@10, recall@100, MRR@10, build speed,
    latency, memory) or the teacher query set (hit@1, hit@5, MRR@10, recall@10)."""
    from bench.evaluation import MODES, evaluate, load_beir

    if not folders and query_file is None:
        raise click.UsageError("give --beir FOLDER (repeatable) or --queries FILE")
    settings = settings_of(ctx)
    embedder = create_embedder(settings.model, settings.embedder, settings.models_dir)
    if query_file is not None:
        from bench.teacher_queries import evaluate_queries, format_report, load_queries

        report = evaluate_queries(settings, embedder, load_queries(query_file),
                                  (mode,) if mode else MODES, progress=not quiet and not as_json)
        click.echo(json.dumps(report) if as_json else format_report(report))
    keys = ["ndcg@10", "recall@100", "mrr@10", "index_s", "docs_per_s", "query_p50_ms",
            "query_p95_ms", "peak_rss_mb"]
    if folders and not as_json:
        click.echo(f"{'dataset':<10} {'mode':<8} " + " ".join(f"{k:>12}" for k in keys))
    for folder in folders:
        rows = evaluate(load_beir(folder), embedder, (mode,) if mode else MODES,
                        progress=not quiet and not as_json)
        for row in rows:
            if as_json:
                click.echo(json.dumps(row))
            else:
                click.echo(f"{row['dataset']:<10} {row['mode']:<8} " +
                           " ".join(f"{row[k]:>12}" for k in keys))


@click.group()
def bench() -> None:
    """Measure speed, memory and scale: one subcommand per benchmark."""


@bench.command(short_help="Build, reindex, cold start, API latency and memory.")
@click.option("--requests", default=300, show_default=True, type=click.IntRange(10, 10_000),
              help="API requests per latency series.")
@click.pass_context
def api(ctx: click.Context, requests: int) -> None:
    """Measure index build, one-edit reindex, cold start, API latency and peak memory."""
    try:
        from bench.api import run_bench
    except ModuleNotFoundError as exc:  # httpx, part of the optional bench extra
        raise click.ClickException(f"kb bench api needs {exc.name}, which is not installed: "
                                   "pip install 'practice-kb[bench]'") from None

    figures = run_bench(settings_of(ctx), requests=requests)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        click.echo(f"{key:<{width}}  {value:10.2f}")


@bench.command(short_help="Soak: the mixed load at a fixed rate, memory and files each minute.")
@click.option("--minutes", default=10.0, show_default=True, type=click.FloatRange(0, 240),
              help="How long to send the load.")
@click.option("--seconds", default=None, type=click.FloatRange(1, 14_400),
              help="How long in seconds instead (short runs, tests).")
@click.option("--rate", default=50.0, show_default=True, type=click.FloatRange(0.1, 1000),
              help="Requests per second, sent open-loop whatever the answers' speed.")
@click.option("--every", default=60.0, show_default=True, type=click.FloatRange(0.5, 3600),
              help="Seconds between report lines.")
@click.option("--submits-per-minute", default=5.0, show_default=True,
              type=click.FloatRange(0, 600), help="Write-ups submitted through the API.")
@click.option("--approvals-per-minute", default=1.0, show_default=True,
              type=click.FloatRange(0, 600), help="Submissions approved (each reindexes).")
@click.pass_context
def load(ctx: click.Context, minutes: float, seconds: float | None, rate: float,
         every: float, submits_per_minute: float, approvals_per_minute: float) -> None:
    """Serve a copy of the library on 127.0.0.1 and send 70% page views, 25% searches and 5% API
    calls, while a contributor submits and a moderator approves; print throughput,
    p50/p95/p99 per class, errors, server memory and open files, and check no write was lost."""
    try:
        from bench.load import format_summary, run_load
    except ModuleNotFoundError as exc:  # httpx, part of the optional bench extra
        raise click.ClickException(f"kb bench load needs {exc.name}, which is not installed: "
                                   "pip install 'practice-kb[bench]'") from None

    duration = seconds if seconds is not None else minutes * 60
    if duration < 1:
        raise click.BadParameter("the run must last at least a second", param_hint="--minutes")
    summary = run_load(settings_of(ctx), duration, rate, every, echo=click.echo,
                       write_rates=(submits_per_minute, approvals_per_minute))
    click.echo(format_summary(summary))
    if summary["lost"] or summary["errors"]:
        raise SystemExit(1)


@bench.command(short_help="The vector index at growing sizes, with a plot.")
@click.option("--sizes", default="10k,100k,1m", show_default=True,
              help="Index sizes, e.g. 10000,100000.")
@click.option("--queries", default=300, show_default=True, type=click.IntRange(10, 10_000),
              help="Queries per size.")
@click.option("--corpus", "corpora", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help="A BEIR folder whose passages join the library's as base vectors "
                   "(repeatable).")
@click.option("--random-base", is_flag=True,
              help="Clustered random base vectors, no model (quick; optimistic).")
@click.option("--plot", type=click.Path(path_type=Path), default=Path("docs/scale.png"),
              show_default=True,
              help="Where to draw the plot (needs matplotlib: pip install 'practice-kb[bench]').")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per size.")
@click.pass_context
def scale(ctx: click.Context, sizes: str, queries: int, corpora: tuple[Path, ...],
          random_base: bool, plot: Path, as_json: bool) -> None:
    """Measure the vector index at growing sizes and draw the plot (see README, Search at
    scale)."""
    from bench.scale import parse_sizes, scale_bench

    scale_bench(settings_of(ctx), parse_sizes(sizes), queries, corpora, random_base, plot,
                as_json, echo=click.echo, progress=echo_err)


@bench.command(short_help="Each embedding backend on the same passages.")
@click.option("--corpus", "corpora", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help=f"A BEIR folder whose documents are embedded (repeatable; default "
                   f"{DEFAULT_CORPUS}).")
@click.option("--limit", default=0, show_default=True, type=click.IntRange(0),
              help="Documents per corpus (0 = all, which also gives nDCG@10).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per corpus and backend.")
@click.pass_context
def embedders(ctx: click.Context, corpora: tuple[Path, ...], limit: int, as_json: bool) -> None:
    """Compare the embedding backends: documents/s, query ms, nDCG@10, agreement with torch."""
    from bench.embedders import format_table, run_embedder_bench

    rows = run_embedder_bench(settings_of(ctx), list(corpora) or [DEFAULT_CORPUS], limit,
                              echo=echo_err)
    click.echo("\n".join(json.dumps(row) for row in rows) if as_json else format_table(rows))


@bench.command(short_help="The opening minute of inset-day sign-up, then a consistency check.")
@click.option("--teachers", default=1500, show_default=True, type=click.IntRange(10, 20_000),
              help="Teachers signing up (accounts made in a temporary data folder).")
@click.option("--ramp", default=60.0, show_default=True, type=click.FloatRange(0, 600),
              help="Seconds over which the teachers arrive.")
@click.option("--within", default=120.0, show_default=True, type=click.FloatRange(1, 3600),
              help="The time limit the run is judged against.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes of the `kb serve` under test.")
@click.option("--concurrency", default=64, show_default=True, type=click.IntRange(1, 1000),
              help="Most teachers with a request in flight at once.")
@click.pass_context
def signup(ctx: click.Context, teachers: int, ramp: float, within: float, workers: int,
           concurrency: int) -> None:
    """Simulate teachers signing up for the 21-session, 4-slot bundled day (5% change their
    minds) against a real `kb serve --workers N` on 127.0.0.1, then check the database."""
    try:
        from bench.signup import run_signup_bench
    except ModuleNotFoundError as exc:  # httpx, part of the optional bench extra
        raise click.ClickException(f"kb bench signup needs {exc.name}, which is not "
                                   "installed: pip install 'practice-kb[bench]'") from None
    figures = run_signup_bench(settings_of(ctx), teachers=teachers, within=within, ramp=ramp,
                               workers=workers, concurrency=concurrency, echo=click.echo)
    if figures["errors"] or figures["inconsistencies"]:
        ctx.exit(1)


COMMANDS = [evaluate_command, bench]
