"""Index files checked against manifest checksums: degraded search, `kb check`, swept leftovers."""

from __future__ import annotations

import fcntl
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from cli.main import cli
from indexer import generations as gens
from indexer.pipeline import index_content
from indexer.search.engine import SearchEngine, SearchQuery
from kb.errors import IndexUnavailableError
from kb.settings import Settings
from services.runtime import start_services

QUERY = "phone calls home when a child is absent"
EXPECTED = "first-day-attendance-calls"


def flip_middle(path: Path, count: int = 64) -> None:
    """Invert `count` bytes in the middle of a file; its size stays the same."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + count):
        data[i] ^= 0xFF
    before = path.stat().st_size
    path.write_bytes(bytes(data))
    assert path.stat().st_size == before


def run(settings: Settings, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(
        cli, ["--content-dir", str(settings.content_dir), "--data-dir", str(settings.data_dir),
              *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def top_slug(engine: SearchEngine) -> str:
    return engine.search(SearchQuery(QUERY, {}, page_size=5)).hits[0].doc.slug


def test_manifest_records_a_checksum_of_every_index_file(fresh: Settings) -> None:
    gen = gens.current_generation(fresh.index_dir)
    manifest = gens.read_manifest(gen)
    assert set(manifest["checksums"]) == {gens.STORE, gens.VECTORS}
    assert manifest["checksums"] == gens.file_checksums(gen)
    assert all(len(value) == 64 for value in manifest["checksums"].values())


def test_altered_vector_file_degrades_to_keyword_search_with_one_log_line(
        fresh: Settings, embedder, caplog) -> None:  # type: ignore[no-untyped-def]
    from webapp.app import create_app

    flip_middle(gens.current_generation(fresh.index_dir) / gens.VECTORS)
    caplog.set_level(logging.WARNING)
    engine = SearchEngine(fresh.index_dir, embedder)  # a restart: the files are read afresh
    health = engine.health()
    assert health["semantic"] == "degraded"
    assert "vectors.faiss does not match the checksum" in health["semantic_problem"]
    assert top_slug(engine) == EXPECTED  # keyword search still answers
    engine.search(SearchQuery("attendance", {}))
    degraded = [r for r in caplog.records if "degraded" in r.getMessage()]
    assert len(degraded) == 1 and "kb check" in degraded[0].getMessage()
    with TestClient(create_app(fresh, embedder=embedder, update_on_start=False)) as client:
        assert client.get("/api/health").status_code == 200
        response = client.get("/search", params={"q": "attendance"})
        assert response.status_code == 200 and "First-day phone calls" in response.text
        assert client.get("/api/search", params={"q": QUERY}).status_code == 200


def test_altered_search_database_serves_the_older_intact_generation(
        fresh: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    path = fresh.practice_dir / "reading-catch-up-year-5.md"
    path.write_text(path.read_text() + "\nOne more note.\n")
    index_content(fresh, embedder, progress=False)
    older, current = gens.finished_generations(fresh.index_dir)
    flip_middle(current / gens.STORE)
    engine = SearchEngine(fresh.index_dir, embedder)
    health = engine.health()
    assert health["generation"] == older.name
    assert health["semantic"] == "degraded"
    assert f"search database of {current.name} does not match" in health["semantic_problem"]
    assert top_slug(engine) == EXPECTED


def test_altered_search_database_with_no_older_generation_is_refused(
        fresh: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    flip_middle(gens.current_generation(fresh.index_dir) / gens.STORE)
    with pytest.raises(IndexUnavailableError, match="kb check"):
        SearchEngine(fresh.index_dir, embedder).health()


@pytest.mark.parametrize("damaged", [gens.VECTORS, gens.STORE])
def test_kb_index_rebuilds_an_altered_index_instead_of_saying_up_to_date(
        fresh: Settings, embedder, damaged: str) -> None:  # type: ignore[no-untyped-def]
    flip_middle(gens.current_generation(fresh.index_dir) / damaged)
    out = run(fresh, "index", "--quiet")
    assert "up to date" not in out
    assert f"{damaged} does not match the checksum" in out
    engine = SearchEngine(fresh.index_dir, embedder)
    assert engine.health()["semantic"] == "ok" and top_slug(engine) == EXPECTED


def test_kb_check_verifies_and_rebuilds_what_is_damaged(fresh: Settings,
                                                        embedder) -> None:  # type: ignore
    name = gens.current_generation(fresh.index_dir).name
    assert f"Index {name} is intact" in run(fresh, "check", "--quiet")
    flip_middle(fresh.index_dir / name / gens.VECTORS)
    out = run(fresh, "check", "--no-repair", code=1)
    assert "vectors.faiss does not match the checksum" in out and "Rebuilt" not in out
    out = run(fresh, "check", "--quiet")
    assert "needs rebuilding" in out and "Rebuilt it in full" in out
    assert "is intact" in run(fresh, "check", "--quiet")
    engine = SearchEngine(fresh.index_dir, embedder)
    assert engine.health()["semantic"] == "ok" and top_slug(engine) == EXPECTED


def test_generation_without_checksums_is_rebuilt(fresh: Settings, embedder) -> None:  # type: ignore
    gen = gens.current_generation(fresh.index_dir)
    manifest = json.loads((gen / gens.MANIFEST).read_text())
    del manifest["checksums"]
    (gen / gens.MANIFEST).write_text(json.dumps(manifest))
    _, report = index_content(fresh, embedder, progress=False)
    assert report.full and "no checksums" in report.reason


def leave_leftovers(index_dir: Path) -> list[Path]:
    building = index_dir / "gen-00000042.building"
    building.mkdir()
    (building / gens.VECTORS).write_bytes(b"half a file")
    tmp = index_dir / "CURRENT.tmp"
    tmp.write_text("gen-00000042\n")
    inner = gens.current_generation(index_dir) / "vectors.faiss.tmp"
    inner.write_bytes(b"partial")
    return [building, tmp, inner]


def test_interrupted_builds_are_swept_at_start(fresh: Settings, embedder) -> None:  # type: ignore
    leftovers = leave_leftovers(fresh.index_dir)
    services = start_services(fresh, embedder, update_index=False)
    try:
        assert [p for p in leftovers if p.exists()] == []
        assert services.engine.health()["semantic"] == "ok"
    finally:
        services.engine.close()


def test_interrupted_builds_are_swept_by_kb_index(fresh: Settings) -> None:
    leftovers = leave_leftovers(fresh.index_dir)
    out = run(fresh, "index", "--quiet")
    assert "Removed leftovers of interrupted builds" in out and "gen-00000042.building" in out
    assert "is up to date" in out
    assert [p for p in leftovers if p.exists()] == []


def test_nothing_is_swept_while_a_build_holds_the_lock(fresh: Settings) -> None:
    leftovers = leave_leftovers(fresh.index_dir)
    with open(fresh.index_dir / ".lock", "a") as handle:  # another process building
        fcntl.flock(handle, fcntl.LOCK_EX)
        assert gens.sweep_interrupted(fresh.index_dir) == []
        assert all(p.exists() for p in leftovers)
    assert len(gens.sweep_interrupted(fresh.index_dir)) == 3
