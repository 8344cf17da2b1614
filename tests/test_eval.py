"""`kb eval`: the metrics by hand, and a small BEIR folder through the real pipeline."""

from __future__ import annotations

import ast
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.evaluation import load_beir, mrr_at, ndcg_at, recall_at
from bench.scale import corpus_texts
from cli.main import cli
from kb.errors import BadInputError

DOCS = {
    "photo": ("Photosynthesis", ("Green plants turn sunlight, water and carbon dioxide into "
                                "sugar and oxygen inside their chloroplasts.")),
    "volcano": ("Volcanoes", ("Molten rock rises through the crust and erupts as lava, ash "
                             "and gas from a volcano.")),
    "tide": ("Tides", ("The pull of the Moon and the Sun raises and lowers the level of the "
                      "sea twice a day.")),
    "bread": ("Bread", ("Yeast ferments the sugars in dough, and the gas it gives off makes "
                       "the loaf rise before baking.")),
    "chess": ("Chess openings", ("White usually opens by moving a centre pawn two squares and "
                                "developing the knights early.")),
    "bees": ("Honey bees", ("Worker bees collect nectar from flowers and turn it into honey "
                           "in the hive.")),
}
QUERIES = {
    "q1": ("how do plants make food from light", {"photo": 2}),
    "q2": ("why does the ocean rise and fall", {"tide": 2}),
    "q3": ("first moves in a game of chess", {"chess": 1}),
}


def beir_folder(base: Path) -> Path:
    folder = base / "mini"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, (t, x) in DOCS.items()),
        encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(
        json.dumps({"_id": q, "text": text}) + "\n" for q, (text, _) in QUERIES.items()),
        encoding="utf-8")
    rows = [f"{q}\t{d}\t{g}" for q, (_, rels) in QUERIES.items() for d, g in rels.items()]
    rows.append("q1\tbees\t0")  # judged not relevant: ignored
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" +
                                               "\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_metrics_use_graded_gains_and_the_log2_discount() -> None:
    rels = {"a": 2, "c": 1}
    ideal = 2 + 1 / math.log2(3)
    assert ndcg_at(["b", "a", "c"], rels) == pytest.approx((2 / math.log2(3) + 1 / 2) / ideal)
    assert ndcg_at(["a", "c"], rels) == pytest.approx(1.0)
    assert recall_at(["x", "a"], rels) == 0.5 and recall_at(["a", "c"], rels, k=1) == 0.5
    assert mrr_at(["x", "y", "c"], rels) == pytest.approx(1 / 3)
    assert mrr_at(["x"] * 10 + ["a"], rels) == 0.0


def test_a_broken_folder_is_named_in_the_error(tmp_path: Path) -> None:
    folder = beir_folder(tmp_path)
    (folder / "qrels" / "test.tsv").unlink()
    with pytest.raises(BadInputError, match="qrels/test.tsv is missing"):
        load_beir(folder)
    folder = beir_folder(tmp_path / "again")
    with open(folder / "corpus.jsonl", "a", encoding="utf-8") as corpus:
        corpus.write("{not json\n")
    with pytest.raises(BadInputError, match=r"corpus.jsonl:7: not valid JSON"):
        load_beir(folder)
    folder = beir_folder(tmp_path / "third")
    with open(folder / "queries.jsonl", "a", encoding="utf-8") as queries:
        queries.write(json.dumps({"_id": "q9"}) + "\n")
    with pytest.raises(BadInputError, match=r"queries.jsonl:4: missing text"):
        load_beir(folder)


def test_the_scale_bench_reads_a_corpus_with_the_same_checks(tmp_path: Path) -> None:
    folder = beir_folder(tmp_path)
    passages = corpus_texts(folder)
    assert len(passages) == 6 and all(text.strip() for text in passages)
    with open(folder / "corpus.jsonl", "a", encoding="utf-8") as corpus:
        corpus.write(json.dumps({"title": "no id"}) + "\n")
    with pytest.raises(BadInputError, match=r"corpus.jsonl:7: missing _id"):
        corpus_texts(folder)
    with pytest.raises(BadInputError, match="no corpus.jsonl there"):
        corpus_texts(tmp_path / "nowhere")


# Each benchmark's own options; every other option of `kb bench` is refused by the others.
BENCH_OPTIONS = {
    "api": {"--requests"},
    "load": {"--minutes", "--seconds", "--rate", "--every", "--submits-per-minute",
             "--approvals-per-minute"},
    "scale": {"--sizes", "--queries", "--corpus", "--random-base", "--plot", "--json"},
    "embedders": {"--corpus", "--limit", "--json"},
    "signup": {"--teachers", "--ramp", "--within", "--workers", "--concurrency"},
}


def test_kb_bench_runs_one_benchmark_at_a_time(tmp_path: Path, monkeypatch) -> None:  # type: ignore
    # In an empty folder: were the call accepted, the benchmark would fail fast there.
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "var"), "bench", "scale",
                                      "embedders"])
    assert result.exit_code == 2, result.output
    assert "unexpected extra argument (embedders)" in result.output
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "var"), "bench", "--scale"])
    assert result.exit_code == 2 and "No such option" in result.output


@pytest.mark.parametrize(("args", "option"), [
    (["api", "--limit", "5"], "--limit"),
    (["api", "--json"], "--json"),
    (["scale", "--requests", "20"], "--requests"),
    (["scale", "--limit", "5"], "--limit"),
    (["embedders", "--sizes", "1000"], "--sizes"),
    (["embedders", "--random-base"], "--random-base"),
    (["embedders", "--plot", "x.png"], "--plot"),
])
def test_kb_bench_refuses_options_of_another_benchmark(args: list[str], option: str,
                                                       tmp_path: Path, monkeypatch) -> None:  # type: ignore
    # In an empty folder: were the option not refused, the benchmark would fail fast there
    # rather than run for minutes or redraw docs/scale.png in the project.
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "var"), "bench", *args])
    assert result.exit_code == 2, result.output
    assert f"No such option '{option}'" in result.output
    assert f"bench {args[0]} --help" in result.output  # the help to read names the benchmark


def test_each_kb_bench_subcommand_lists_only_its_own_options() -> None:
    result = CliRunner().invoke(cli, ["bench", "--help"], catch_exceptions=False)
    listed = re.findall(r"^  ([a-z]+)  ", result.output.split("Commands:")[1], re.MULTILINE)
    assert sorted(listed) == sorted(BENCH_OPTIONS)
    for name, options in BENCH_OPTIONS.items():
        result = CliRunner().invoke(cli, ["bench", name, "--help"], catch_exceptions=False)
        assert result.exit_code == 0
        assert set(re.findall(r"^  (--[a-z-]+)", result.output, re.MULTILINE)) == \
            options | {"--help"}, name


ROOT = Path(__file__).resolve().parent.parent
SERVING_PACKAGES = ("kb", "indexer", "services", "webapp")


def test_no_serving_package_imports_bench_or_matplotlib() -> None:
    # Every import statement, including those inside functions (imported lazily).
    problems = []
    for package in SERVING_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom)
                         and node.module and node.level == 0 else [])
                problems += [f"{path.relative_to(ROOT)} imports {name}" for name in names
                             if name.split(".")[0] in ("bench", "matplotlib")]
    assert problems == []


def test_loading_the_server_and_the_cli_loads_neither_bench_nor_matplotlib() -> None:
    # In a fresh process: every module of the serving packages and the whole CLI (`kb serve`
    # lives there), so an import through a third-party library would show too.
    script = f"""
import importlib, pkgutil, sys
import cli.main
for package in {SERVING_PACKAGES!r}:
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        importlib.import_module(info.name)
unwanted = [name for name in sys.modules if name.split(".")[0] in ("bench", "matplotlib")]
print(len(sys.modules), sorted(unwanted))
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    count, loaded = result.stdout.strip().split(" ", 1)
    assert int(count) > 300 and loaded == "[]"


def test_kb_bench_api_without_httpx_says_what_to_install(tmp_path: Path, monkeypatch) -> None:  # type: ignore
    monkeypatch.setitem(sys.modules, "httpx", None)  # as if the bench extra were missing
    monkeypatch.delitem(sys.modules, "bench.api", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "var"), "bench", "api"])
    assert result.exit_code == 1, result.output
    assert "kb bench api needs httpx" in result.output
    assert "pip install 'practice-kb[bench]'" in result.output


def test_kb_eval_runs_every_mode_through_the_real_pipeline(fresh, tmp_path: Path) -> None:  # type: ignore
    folder = beir_folder(tmp_path)
    result = CliRunner().invoke(cli, ["--data-dir", str(fresh.data_dir), "eval", "--beir",
                                      str(folder), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = {row["mode"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {"hybrid", "keyword", "dense"}
    keys = {"ndcg@10", "recall@100", "mrr@10", "index_s", "docs_per_s", "query_p50_ms",
            "query_p95_ms", "peak_rss_mb"}
    assert all(keys <= set(row) for row in rows.values())
    # Each question names its answer only in other words, which meaning finds.
    assert rows["hybrid"]["ndcg@10"] == 1.0 and rows["dense"]["ndcg@10"] == 1.0
    assert rows["hybrid"]["recall@100"] == 1.0
    assert rows["keyword"]["ndcg@10"] < 1.0  # "rise" is in bread and volcanoes, not tides
    assert all(row["docs_per_s"] > 0 and row["query_p50_ms"] > 0 for row in rows.values())
    table = CliRunner().invoke(cli, ["--data-dir", str(fresh.data_dir), "eval", "--beir",
                                     str(folder), "--mode", "keyword", "--quiet"])
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split()[:3] == [
        "dataset", "mode", "ndcg@10"]
    assert table.stdout.splitlines()[1].split()[:2] == ["mini", "keyword"]
