"""Faults in the index (reliability rows 15-17): kill -9 in the middle of writing the vector
file, vectors that drifted from their rows, and vector files that are empty, cut short, of
another width or from another model. Search keeps answering; nothing unreal is shown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from indexer import generations as gens
from indexer.pipeline import index_content
from indexer.search.engine import SearchEngine, SearchQuery
from kb.settings import Settings

CHILD = Path(__file__).resolve().parent / "index_children.py"


def test_kill_9_mid_save_leaves_the_served_index_whole(fresh: Settings, embedder) -> None:  # type: ignore
    served = gens.current_generation(fresh.index_dir)
    assert served is not None
    engine = SearchEngine(fresh.index_dir, embedder, reload_seconds=0)
    query = SearchQuery("phone calls home when a child is absent", {}, page_size=5)
    before = [h.doc.slug for h in engine.search(query).hits]
    path = fresh.practice_dir / "weekly-quizzes-year-7-maths.md"
    path.write_text(path.read_text().replace("ten-question", "twelve-question"))

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(CHILD.parent)]),
               HF_HUB_OFFLINE="1")
    child = subprocess.Popen([sys.executable, str(CHILD), str(fresh.content_dir),
                              str(fresh.data_dir), str(fresh.models_dir)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("in-save "), (line, child.stderr.read())  # type: ignore[union-attr]
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
    assert child.returncode == -signal.SIGKILL

    assert gens.current_generation(fresh.index_dir) == served
    manifest = gens.read_manifest(served)
    assert manifest is not None and gens.damaged_files(served, manifest) == {}
    health = engine.health()
    assert health["generation"] == served.name and health["semantic"] == "ok", health
    assert [h.doc.slug for h in engine.search(query).hits] == before

    _, report = index_content(fresh, embedder, progress=False)
    assert report.updated == ["weekly-quizzes-year-7-maths"]
    assert gens.current_generation(fresh.index_dir) != served
    left = [p.name for p in fresh.index_dir.rglob("*") if p.name.endswith((".building", ".tmp"))]
    assert left == []
    assert engine.health()["semantic"] == "ok"


def test_vectors_that_drifted_from_the_rows_are_never_served(fresh: Settings, embedder) -> None:  # type: ignore
    """Row 16: a generation whose vector ids no longer match its chunk rows (a builder that
    crashed between adds, then published with fresh checksums) loads as keyword-only search
    with a degraded health and the reason; no hit names a row that does not exist."""
    import numpy as np

    from indexer.vectors import VectorIndex

    gen = gens.current_generation(fresh.index_dir)
    assert gen is not None
    vectors = VectorIndex.load(gen / gens.VECTORS)
    ids, stored = vectors.contents()
    ghosts = np.arange(10_000, 10_000 + 5, dtype=np.int64)  # chunks of a deleted write-up
    vectors.add(ghosts, stored[:5])
    vectors.save(gen / gens.VECTORS)
    manifest = gens.read_manifest(gen)
    assert manifest is not None
    gens.write_json_atomic(gen / gens.MANIFEST, {**manifest,
                                                 "checksums": gens.file_checksums(gen)})
    engine = SearchEngine(fresh.index_dir, embedder)
    health = engine.health()
    assert health["semantic"] == "degraded", health
    assert f"{len(ids) + 5} vectors for {len(ids)} chunks" in health["semantic_problem"]
    known = {d.slug for d in engine.documents()}
    hits = engine.search(SearchQuery("feedback sheets", {}, page_size=50)).hits
    assert hits and {h.doc.slug for h in hits} <= known


def _rewrite_vectors(gen: Path, dim: int | None = None, model: str | None = None,
                     data: bytes | None = None) -> None:
    """Replace the vector file (and what the manifest says of it), with fresh checksums, as a
    build with another model or an older program would have left it."""
    import numpy as np

    from indexer.vectors import VectorIndex

    manifest = gens.read_manifest(gen)
    assert manifest is not None
    if data is not None:
        (gen / gens.VECTORS).write_bytes(data)
    if dim is not None:
        ids, _ = VectorIndex.load(gen / gens.VECTORS).contents()
        wide = VectorIndex.empty(dim)
        rows = np.random.default_rng(17).standard_normal((len(ids), dim)).astype("float32")
        wide.add(ids, rows / np.linalg.norm(rows, axis=1, keepdims=True))
        wide.save(gen / gens.VECTORS)
        manifest["dim"] = dim
    if model is not None:
        manifest["model"] = model
    gens.write_json_atomic(gen / gens.MANIFEST, {**manifest,
                                                 "checksums": gens.file_checksums(gen)})


@pytest.mark.parametrize("fault", ["empty", "cut-short", "wider", "other-model"])
def test_unusable_vectors_mean_keyword_search_and_one_log_line(fresh: Settings, embedder,  # type: ignore
                                                               fault: str, caplog) -> None:
    """Row 17: the app starts, health says degraded, the page and the API answer 200 with
    keyword results, the reason is logged once however many searches follow, and the next
    `kb index` rebuilds in full. Vectors of another width used to fail every search with a
    500 (FAISS asserts the query's width) and `kb index` called such an index up to date."""
    from fastapi.testclient import TestClient

    from webapp.app import create_app

    gen = gens.current_generation(fresh.index_dir)
    assert gen is not None
    if fault == "empty":
        _rewrite_vectors(gen, data=b"")
    elif fault == "cut-short":
        _rewrite_vectors(gen, data=(gen / gens.VECTORS).read_bytes()[:100])
    elif fault == "wider":
        _rewrite_vectors(gen, dim=768)
    else:
        _rewrite_vectors(gen, model="bundled:some-other-model")
    with caplog.at_level("WARNING"):
        with TestClient(create_app(fresh, embedder=embedder, update_on_start=False)) as client:
            for _ in range(3):
                page = client.get("/search?q=attendance")
                assert page.status_code == 200 and "First-day phone calls" in page.text
                api = client.get("/api/search?q=phone+calls+home")
                assert api.status_code == 200, api.text[:300]
            assert client.get("/api/health").json()["semantic"] == "degraded"
    assert len([r for r in caplog.records if "search degraded" in r.getMessage()]) == 1
    _, report = index_content(fresh, embedder, progress=False)  # and `kb index` mends it
    assert report.full, report.reason
    assert SearchEngine(fresh.index_dir, embedder).health()["semantic"] == "ok"


def test_searches_during_rebuilds_in_the_same_process_see_whole_generations(
        fresh: Settings, embedder) -> None:  # type: ignore
    """Row 19: threads search while the same process publishes three new generations; no
    search fails, and each answers from one whole generation: the write-up being edited is
    found with its old words or its new ones, and the others are always all there."""
    import threading

    engine = SearchEngine(fresh.index_dir, embedder, reload_seconds=0)
    query = SearchQuery("", {}, page_size=50)  # browse: every write-up
    everyone = {h.doc.slug for h in engine.search(query).hits}
    path = fresh.practice_dir / "weekly-quizzes-year-7-maths.md"
    words = ["ten-question", "eleven-question", "twelve-question", "thirteen-question"]
    stop = threading.Event()
    failures: list[BaseException] = []
    answers: list[tuple[str, frozenset[str], str]] = []

    def keep_searching() -> None:
        while not stop.is_set():
            try:
                found = engine.search(query)
                text = engine.document("weekly-quizzes-year-7-maths").body
                answers.append((found.generation, frozenset(h.doc.slug for h in found.hits),
                                text))
            except BaseException as exc:  # pragma: no cover - the failure being tested for
                failures.append(exc)
                return

    threads = [threading.Thread(target=keep_searching) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for old, new in zip(words, words[1:]):
            path.write_text(path.read_text().replace(old, new))
            index_content(fresh, embedder, progress=False)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert failures == []
    assert len({generation for generation, _, _ in answers}) >= 2  # the swaps happened
    assert all(slugs == everyone for _, slugs, _ in answers)
    assert all(sum(w in text for w in words) == 1 for _, _, text in answers)
