"""kill -9 in the middle of writing the vector file (reliability row 15): the served
generation keeps every byte its manifest records, search by meaning keeps working, and the
next build sweeps the half-written folder and publishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

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
