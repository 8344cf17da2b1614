"""The ONNX Runtime embedders against the torch reference: accuracy, batching, caching, search."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from conftest import make_library

from indexer.embedders import onnx_runtime as onnx_embedding
from indexer.embedders.base import Embedder
from indexer.embedders.factory import create_embedder
from indexer.embedders.onnx_runtime import OnnxEmbedder, model_dir
from indexer.embedders.sentence_transformer import SentenceTransformerEmbedder
from indexer.pipeline import index_content
from indexer.search.engine import SearchEngine, SearchQuery
from kb.errors import BadInputError
from kb.settings import BUNDLED_MODEL, load_settings

SENTENCES = [
    "Weekly low-stakes quizzes helped Year 7 pupils remember earlier maths topics.",
    "We phoned home on the first morning of any absence.",
    "Teaching assistants ran small-group tuition for disadvantaged pupils.",
    "How do I stop children forgetting what they learned last term?",
    "reading age",
    # Long enough to pass the 128 tokens at which the shipped tokenizer.json would cut.
    " ".join(["Pupils read aloud in tutor time, and teachers modelled fluent, expressive "
              "reading before asking questions about vocabulary and inference."] * 8),
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(BUNDLED_MODEL)


@pytest.fixture(scope="session")
def int8(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> OnnxEmbedder:
    """The session's default embedder when it is ONNX int8 (it is, by default), else a new one."""
    if isinstance(embedder, OnnxEmbedder) and embedder.quantised:
        return embedder
    own = create_embedder(BUNDLED_MODEL, "onnx-int8", tmp_path_factory.mktemp("int8"))
    assert isinstance(own, OnnxEmbedder)
    return own


def test_default_backend_is_onnx_int8_named_with_backend(int8: OnnxEmbedder) -> None:
    assert load_settings({}).embedder == "onnx-int8"
    assert int8.name == f"{BUNDLED_MODEL}+onnx-int8"


def test_int8_vectors_are_normalised_and_384_wide(int8: OnnxEmbedder) -> None:
    vectors = int8.encode_documents(SENTENCES)
    assert vectors.shape == (len(SENTENCES), 384) and vectors.dtype == np.float32
    assert int8.dim == 384
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = int8.encode_query(SENTENCES[3])
    assert query.shape == (384,) and abs(float(np.linalg.norm(query)) - 1.0) < 1e-5


def test_int8_vectors_are_close_to_torch(int8: OnnxEmbedder,
                                         torch_embedder: SentenceTransformerEmbedder) -> None:
    reference = torch_embedder.encode_documents(SENTENCES)
    assert cosines(int8.encode_documents(SENTENCES), reference).min() > 0.98


def test_vectors_do_not_depend_on_batching(int8: OnnxEmbedder) -> None:
    alone = np.vstack([int8.encode_documents([text]) for text in SENTENCES])
    batched = int8.encode_documents(SENTENCES)
    reordered = int8.encode_documents(SENTENCES[::-1] + ["an unrelated filler passage"] * 3)
    # Exactly equal: each text is run on its own, so its company cannot change its scales.
    assert np.array_equal(alone, batched)
    assert np.array_equal(alone, reordered[:len(SENTENCES)][::-1])
    # A query and a document with the same text (after stripping) get the same vector.
    query = "We phoned home on the first morning of any absence.   "
    assert np.array_equal(int8.encode_query(query), alone[1])


def test_texts_are_read_up_to_256_tokens(int8: OnnxEmbedder) -> None:
    words = [f"word{n}" for n in range(300)]  # each one several word-piece tokens
    stem = " ".join(["pupils"] * 150)  # 150 tokens, beyond the tokenizer file's 128
    differ_at_180 = int8.encode_documents([stem + " maths " * 30, stem + " music " * 30])
    assert cosines(differ_at_180[:1], differ_at_180[1:])[0] < 0.9999
    past_limit = " ".join(["pupils"] * 260)
    same_first_256 = int8.encode_documents([past_limit + " maths", past_limit + " " +
                                            " ".join(words)])
    assert np.array_equal(same_first_256[0], same_first_256[1])


def test_built_files_are_cached_and_reused(int8: OnnxEmbedder, monkeypatch) -> None:  # type: ignore
    folder = model_dir(int8.models_dir, BUNDLED_MODEL, quantised=True)
    int8.encode_query("make sure it is built")
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "build.json", "model.onnx"]

    def no_export(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the model was exported again")

    monkeypatch.setattr(onnx_embedding, "_export", no_export)
    again = OnnxEmbedder(BUNDLED_MODEL, int8.models_dir, quantised=True)
    assert again.name == int8.name and again.built is False
    assert np.array_equal(again.encode_documents(SENTENCES[:2]),
                          int8.encode_documents(SENTENCES[:2]))


def test_fp32_backend_matches_torch_and_rebuilds_when_stale_or_damaged(
        tmp_path: Path, torch_embedder: SentenceTransformerEmbedder) -> None:
    fp32 = create_embedder(BUNDLED_MODEL, "onnx", tmp_path / "models")
    assert isinstance(fp32, OnnxEmbedder)
    assert fp32.name == f"{BUNDLED_MODEL}+onnx" and fp32.built
    reference = torch_embedder.encode_documents(SENTENCES)
    assert cosines(fp32.encode_documents(SENTENCES), reference).min() > 0.9999
    stamp = model_dir(tmp_path / "models", BUNDLED_MODEL, quantised=False) / "build.json"
    data = json.loads(stamp.read_text())
    assert OnnxEmbedder(BUNDLED_MODEL, tmp_path / "models", quantised=False).dim == 384
    stamp.write_text(json.dumps(dict(data, recipe=data["recipe"] - 1)))
    rebuilt = OnnxEmbedder(BUNDLED_MODEL, tmp_path / "models", quantised=False)
    assert rebuilt.dim == 384 and rebuilt.built
    with open(stamp.with_name("model.onnx"), "r+b") as damaged:
        damaged.truncate(100)
    repaired = OnnxEmbedder(BUNDLED_MODEL, tmp_path / "models", quantised=False)
    assert repaired.name.endswith("+onnx") and repaired.built
    assert cosines(repaired.encode_documents(SENTENCES[:1]), reference[:1])[0] > 0.9999


def test_failed_build_leaves_no_files_and_falls_back_to_torch(tmp_path: Path, monkeypatch,
                                                              caplog) -> None:  # type: ignore
    def broken_export(source: Path, target: Path) -> None:
        target.write_bytes(b"half a model")  # a crash mid-write
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(onnx_embedding, "_export", broken_export)
    embedder = create_embedder(BUNDLED_MODEL, "onnx-int8", tmp_path / "models")
    with caplog.at_level(logging.WARNING):
        assert embedder.name == BUNDLED_MODEL  # the torch name: its vectors are torch's
        assert embedder.name == BUNDLED_MODEL
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "using torch" in warnings[0] and "exploded" in warnings[0]
    folder = model_dir(tmp_path / "models", BUNDLED_MODEL, quantised=True)
    assert sorted(p.name for p in folder.iterdir()) == [".lock"]


def test_missing_onnxruntime_falls_back_to_torch(monkeypatch, caplog) -> None:  # type: ignore
    import importlib.util

    real = importlib.util.find_spec
    # A narrow unit test: pretend the package is not installed.
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    with caplog.at_level(logging.WARNING):
        embedder = create_embedder(BUNDLED_MODEL, "onnx-int8", Path("unused"))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert any("onnxruntime not installed" in r.getMessage() for r in caplog.records)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(BadInputError, match="KB_EMBEDDER must be one of onnx-int8, onnx, torch"):
        load_settings({"KB_EMBEDDER": "tensorflow"})
    with pytest.raises(BadInputError, match="KB_EMBEDDER"):
        create_embedder(BUNDLED_MODEL, "gpu")


def test_fixture_library_indexes_and_finds_by_meaning_with_onnx(tmp_path: Path,
                                                                 int8: OnnxEmbedder) -> None:
    settings = make_library(tmp_path)
    _, report = index_content(settings, int8, progress=False)
    assert report.full and report.chunks_embedded > 0
    engine = SearchEngine(settings.index_dir, int8)
    assert engine.health()["semantic"] == "ok"
    hits = engine.search(SearchQuery("kids forget stuff from previous lessons")).hits
    assert hits[0].doc.slug == "weekly-quizzes-year-7-maths"


def test_incremental_and_full_builds_rank_identically(tmp_path: Path, int8: OnnxEmbedder
                                                      ) -> None:
    settings = make_library(tmp_path / "incremental")
    index_content(settings, int8, progress=False)
    path = settings.practice_dir / "weekly-quizzes-year-7-maths.md"
    path.write_text(path.read_text().replace("ten-question", "twelve-question"))
    _, report = index_content(settings, int8, progress=False)
    assert report.updated == ["weekly-quizzes-year-7-maths"] and not report.full
    full = make_library(tmp_path / "full")
    (full.practice_dir / path.name).write_text(path.read_text())
    index_content(full, int8, progress=False)
    for query in ("kids forget stuff from previous lessons", "phone calls about absence",
                  "feedback without marking every book", "coaching for new teachers"):
        ranked = [[(h.doc.slug, round(h.score, 6)) for h in
                   SearchEngine(s.index_dir, int8).search(SearchQuery(query)).hits]
                  for s in (settings, full)]
        assert ranked[0] == ranked[1], query


def test_switching_backend_forces_a_full_rebuild(tmp_path: Path, int8: OnnxEmbedder,
                                                 torch_embedder: SentenceTransformerEmbedder
                                                 ) -> None:
    settings = make_library(tmp_path)
    index_content(settings, int8, progress=False)
    _, report = index_content(settings, torch_embedder, progress=False)
    assert report.full and "model changed" in report.reason
    _, report = index_content(settings, int8, progress=False)
    assert report.full and "onnx-int8" in report.reason


def test_bench_embedders_prints_every_backend(tmp_path: Path, monkeypatch) -> None:  # type: ignore
    from click.testing import CliRunner
    from conftest import MODEL_CACHE

    from cli.main import cli

    # As a user runs it: no KB_MODEL_CACHE, so the models live in <data dir>/models (linked
    # to the suite's, to skip the exports), and nothing may land in the working folder.
    monkeypatch.delenv("KB_MODEL_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "var"
    data.mkdir()
    (data / "models").symlink_to(MODEL_CACHE, target_is_directory=True)

    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": f"d{n}", "title": "", "text": text}) + "\n"
        for n, text in enumerate(SENTENCES)), encoding="utf-8")
    (beir / "queries.jsonl").write_text(json.dumps(
        {"_id": "q1", "text": "ringing parents when a child is away"}) + "\n", encoding="utf-8")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "bench", "embedders",
                                      "--corpus", str(beir), "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beir", "var"]
    rows = {row["backend"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {"torch", "onnx", "onnx-int8"}
    assert all(row["docs_per_s"] > 0 and row["query_p50_ms"] > 0 for row in rows.values())
    # The one judged document is about phoning home: found first by every backend.
    assert all(row["ndcg@10_dense"] == 1.0 for row in rows.values())
    assert rows["onnx"]["min_cos_vs_torch"] > 0.999
    assert 0.95 < rows["onnx-int8"]["mean_cos_vs_torch"] < 1.0


def test_without_a_fallback_a_failed_build_is_raised(tmp_path: Path, monkeypatch) -> None:  # type: ignore
    def broken_export(source: Path, target: Path) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(onnx_embedding, "_export", broken_export)
    embedder = OnnxEmbedder(BUNDLED_MODEL, tmp_path / "models", quantised=True)
    with pytest.raises(RuntimeError, match="exporter exploded"):
        embedder.encode_query("anything")


def test_embedder_backends_import_only_the_base_module() -> None:
    import ast

    folder = Path(onnx_embedding.__file__).parent
    imported = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported[path.stem] = {node.module.rsplit(".", 1)[1] for node in ast.walk(tree)
                               if isinstance(node, ast.ImportFrom) and node.module
                               and node.module.startswith("indexer.embedders.")}
    assert imported.pop("factory") == {"base", "sentence_transformer", "onnx_runtime"}
    assert imported.pop("base") == set()
    assert {name: found - {"base"} for name, found in imported.items()} == \
        {"__init__": set(), "onnx_runtime": set(), "sentence_transformer": set()}
