"""The vector index past its size threshold (IVF) and `kb bench scale`, on real FAISS."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_library

from bench import synthetic
from bench.scale import parse_sizes, scale_bench
from cli.main import cli
from indexer import generations as gens
from indexer.pipeline import update_index
from indexer.records import plain_doc
from indexer.search.engine import SearchEngine, SearchQuery
from indexer.vectors import FLAT, IVF, VectorIndex, kind_for
from kb.errors import BadInputError

THRESHOLD = 500


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    base = synthetic.clustered_vectors(600, seed=3)
    vectors, _ = synthetic.expand(base, synthetic.neighbour_table(base), 3100, seed=4)
    return vectors


@pytest.fixture
def ivf(points: np.ndarray, tmp_path: Path) -> tuple[VectorIndex, VectorIndex, Path]:
    """(approximate index loaded from disk, exact index, its file) over 3000 vectors."""
    ids = np.arange(1000, 4000)
    exact = VectorIndex.empty(points.shape[1])
    exact.add(ids, points[:3000])
    approx = VectorIndex.empty(points.shape[1])
    approx.add(ids, points[:3000])
    path = tmp_path / "vectors.faiss"
    approx.save(path, THRESHOLD)
    return VectorIndex.load(path, points.shape[1]), exact, path


def recall_at_10(index: VectorIndex, exact: VectorIndex, queries: np.ndarray,
                 allowed: np.ndarray | None = None) -> float:
    hits = []
    for query in queries:
        found = set(index.search(query, 10, allowed)[0].tolist())
        truth = set(exact.search(query, 10, allowed)[0].tolist())
        hits.append(len(found & truth) / len(truth))
    return float(np.mean(hits))


def test_index_is_exact_below_the_threshold_and_ivf_above_it(points, tmp_path) -> None:  # type: ignore
    small = VectorIndex.empty(384)
    small.add(np.arange(400), points[:400])
    small.save(tmp_path / "small.faiss", THRESHOLD)
    assert VectorIndex.load(tmp_path / "small.faiss").kind == FLAT
    small.add(np.arange(400, 600), points[400:600])
    small.save(tmp_path / "small.faiss", THRESHOLD)
    loaded = VectorIndex.load(tmp_path / "small.faiss")
    assert loaded.kind == IVF and loaded.describe()["lists"] == 15
    # Between half the threshold and the threshold the type stays put (no flapping).
    assert kind_for(300, IVF, THRESHOLD) == IVF and kind_for(300, FLAT, THRESHOLD) == FLAT
    loaded.remove(list(range(400)))
    loaded.save(tmp_path / "small.faiss", THRESHOLD)
    assert VectorIndex.load(tmp_path / "small.faiss").kind == FLAT


def test_approximate_search_keeps_high_recall(ivf, points) -> None:  # type: ignore
    index, exact, _ = ivf
    assert index.kind == IVF
    assert recall_at_10(index, exact, points[3000:3100]) >= 0.95


def test_filtered_search_only_returns_allowed_ids_and_finds_the_best(ivf, points) -> None:  # type: ignore
    index, exact, _ = ivf
    rng = np.random.default_rng(7)
    queries = points[3000:3040]
    for share in (0.4, 0.05):
        allowed = np.sort(rng.choice(np.arange(1000, 4000), int(3000 * share), replace=False))
        for query in queries[:5]:
            ids, scores = index.search(query, 10, allowed)
            assert len(ids) == 10 and set(ids.tolist()) <= set(allowed.tolist())
            assert list(scores) == sorted(scores, reverse=True)
        assert recall_at_10(index, exact, queries, allowed) >= 0.95
    # A very selective filter: the graph-free exhaustive path returns every allowed id.
    few = np.array([1005, 2500, 3999])
    ids, _ = index.search(points[3000], 10, few)
    assert sorted(ids.tolist()) == few.tolist()
    assert index.search(points[3000], 10, np.array([], dtype=np.int64))[0].size == 0


def test_exact_filtered_search_matches_brute_force_for_large_and_small_filters(
        ivf, points) -> None:  # type: ignore
    _, exact, _ = ivf
    rng = np.random.default_rng(11)
    for count in (1200, 40):  # a bitmap selector, then a hashed id batch
        allowed = np.sort(rng.choice(np.arange(1000, 4000), count, replace=False))
        for query in points[3000:3005]:
            scores = np.sort(points[allowed - 1000] @ query)[::-1][:10]
            ids, found = exact.search(query, 10, allowed)
            assert set(ids.tolist()) <= set(allowed.tolist())
            assert np.allclose(found, scores, atol=1e-5)


def test_removal_reconstruct_and_save_load_stay_correct(ivf, points) -> None:  # type: ignore
    index, _, path = ivf
    assert np.allclose(index.vectors([1000, 3999]), points[[0, 2999]], atol=1e-6)
    gone = list(range(1000, 1100))
    index.remove(gone)
    assert index.size == 2900
    for row in range(0, 100, 10):
        ids, _ = index.search(points[row], 10)
        assert not set(ids.tolist()) & set(gone)
    with pytest.raises(RuntimeError):
        index.vectors([1000])
    index.add([5000], points[3050:3051])
    index.save(path, THRESHOLD)
    again = VectorIndex.load(path, 384)
    assert again.kind == IVF and again.size == 2901
    assert again.search(points[3050], 1)[0].tolist() == [5000]
    assert np.allclose(again.vectors([5000, 2000]), points[[3050, 1000]], atol=1e-6)
    ids, vectors = again.contents()
    assert len(ids) == 2901 and ids[0] == 1100 and ids[-1] == 5000
    assert np.allclose(vectors[0], points[100], atol=1e-6)


def test_pipeline_switches_type_by_setting_and_search_works(tmp_path, embedder) -> None:  # type: ignore
    topics = ["fractions", "phonics", "attendance", "revision", "vocabulary", "coaching",
              "homework", "transition", "behaviour", "feedback", "tutoring", "debate"]
    docs = [plain_doc(f"note-{t}-{i}", f"Note {i} on {t}",
                      f"A short school note number {i} about {t} in lessons.")
            for t in topics for i in range(8)]
    index_dir = tmp_path / "index"
    report = update_index(index_dir, docs, embedder, progress=False, ann_threshold=64)
    manifest = gens.read_manifest(gens.current_generation(index_dir))
    assert report.chunks_embedded == 96 and manifest["vector_index"]["kind"] == IVF
    engine = SearchEngine(index_dir, embedder, reload_seconds=0)
    hits = engine.search(SearchQuery("teaching fractions")).hits
    assert hits[0].doc.slug.startswith("note-fractions")
    # Removing write-ups updates the IVF index in place (no rebuild, no re-embedding).
    report = update_index(index_dir, docs[8:], embedder, progress=False, ann_threshold=64)
    assert report.removed and report.chunks_embedded == 0
    assert not any(h.doc.slug.startswith("note-fractions")
                   for h in engine.search(SearchQuery("fractions")).hits)
    # A new threshold alone re-saves the vectors as the right type.
    report = update_index(index_dir, docs[8:], embedder, progress=False, ann_threshold=10_000)
    assert report.retyped and "from ivf to flat" in report.reason
    manifest = gens.read_manifest(gens.current_generation(index_dir))
    assert manifest["vector_index"]["kind"] == FLAT
    report = update_index(index_dir, docs[8:], embedder, progress=False, ann_threshold=10_000)
    assert not report.changed


def test_sizes_parse_with_suffixes_and_reject_nonsense() -> None:
    assert parse_sizes("1m, 10k,100000,10k") == [10_000, 100_000, 1_000_000]
    with pytest.raises(BadInputError, match="not a size"):
        parse_sizes("lots")
    with pytest.raises(BadInputError, match="too small"):
        parse_sizes("10")


def test_expanded_vectors_are_unit_length_and_near_their_base() -> None:
    base = synthetic.clustered_vectors(200, seed=1)
    table = synthetic.neighbour_table(base)
    assert table.shape == (200, 10) and not (table == np.arange(200)[:, None]).any()
    vectors, origin = synthetic.expand(base, table, 1000, seed=2)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = (vectors * base[origin]).sum(axis=1)
    assert np.median(similarity) > 0.8 and similarity.min() < 0.999


def test_scale_bench_prints_figures_and_draws_the_plot(tmp_path) -> None:  # type: ignore
    plot = tmp_path / "scale.png"
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path / "var"), "bench", "scale", "--random-base",
              "--sizes", "2000", "--queries", "30", "--plot", str(plot)],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Base: 4000 clustered random unit vectors" in result.stderr
    assert "recall@10" in lines[0] and "exact p50/p95" in lines[0]
    row = lines[1].split()
    assert row[0] == "2,000" and row[1] == FLAT and 0.9 <= float(row[-1]) <= 1.0
    assert "0.5% filter: recall@10" in result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = CliRunner().invoke(
        cli, ["bench", "scale", "--random-base", "--sizes", "1000", "--queries", "10",
              "--plot", str(plot), "--json"], catch_exceptions=False)
    figures = json.loads(result.stdout.splitlines()[0])
    assert figures["size"] == 1000 and figures["exact_disk_mb"] > 1
    assert set(figures["filtered_recall_at_10"]) == {"10.0%", "0.5%"}


def test_scale_bench_without_matplotlib_prints_the_figures_and_skips_only_the_plot(
        tmp_path, monkeypatch) -> None:  # type: ignore
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the bench extra were missing
    plot = tmp_path / "scale.png"
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path / "var"), "bench", "scale", "--random-base",
              "--sizes", "1000", "--queries", "10", "--plot", str(plot)],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "recall@10" in result.stdout.splitlines()[0]
    assert result.stdout.splitlines()[1].split()[0] == "1,000"
    warnings = [line for line in result.stderr.splitlines() if "matplotlib" in line]
    assert len(warnings) == 1 and "pip install 'practice-kb[bench]'" in warnings[0]
    # Said before the measuring starts, not after it.
    assert result.stderr.index(warnings[0]) < result.stderr.index("vectors measured")
    assert not plot.exists() and "Plot written" not in result.output


def test_scale_bench_embeds_with_the_configured_backend_and_model_folder(tmp_path, monkeypatch
                                                                        ) -> None:  # type: ignore
    # Plumbing only: the real embedding of a real base is what `kb bench scale` measures.
    from indexer.embedders import factory

    settings = make_library(tmp_path)
    asked = []

    def record(*args):  # type: ignore[no-untyped-def]
        asked.append(args)
        raise RuntimeError("stop before embedding")

    monkeypatch.setattr(factory, "create_embedder", record)
    with pytest.raises(RuntimeError, match="stop before embedding"):
        scale_bench(settings, [1000], queries=10, plot=None, progress=lambda line: None)
    assert asked == [(settings.model, settings.embedder, settings.models_dir)]
