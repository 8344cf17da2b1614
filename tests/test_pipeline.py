"""Index building with the real model: incremental updates, deletions, damage and crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write

from indexer import generations as gens
from indexer.pipeline import index_content
from indexer.search.engine import SearchEngine, SearchQuery
from indexer.search.sentences import sentence_spans
from indexer.store import load_chunks
from kb.settings import Settings


def slugs(engine: SearchEngine, text: str = "", **filters: tuple[str, ...]) -> list[str]:
    return [h.doc.slug for h in engine.search(SearchQuery(text, filters, page_size=50)).hits]


def test_rerun_with_no_changes_embeds_nothing(fresh: Settings, embedder) -> None:  # type: ignore
    before = gens.current_generation(fresh.index_dir)
    _, report = index_content(fresh, embedder, progress=False)
    assert not report.changed and report.chunks_embedded == 0
    assert report.unchanged == 6
    assert gens.current_generation(fresh.index_dir) == before


def test_drafts_and_invalid_files_are_not_indexed(fresh: Settings, embedder) -> None:  # type: ignore
    write(fresh, "broken", "---\ntitle: [\n---\n")
    library, _ = index_content(fresh, embedder, progress=False)
    engine = SearchEngine(fresh.index_dir, embedder)
    found = slugs(engine)
    assert "unfinished-draft-on-homework" not in found and "broken" not in found
    assert len(found) == 6
    assert any("broken.md" in str(p) for p in library.errors)


def test_edited_file_is_reindexed_alone(fresh: Settings, embedder) -> None:  # type: ignore
    path = fresh.practice_dir / "first-day-attendance-calls.md"
    path.write_text(path.read_text().replace(
        "The attendance officer phoned home",
        "A retired bus driver, the attendance officer, phoned home"), encoding="utf-8")
    _, report = index_content(fresh, embedder, progress=False)
    assert report.updated == ["first-day-attendance-calls"] and not report.added
    assert 0 < report.chunks_embedded < 10 and not report.full
    engine = SearchEngine(fresh.index_dir, embedder)
    assert slugs(engine, "retired bus driver")[0] == "first-day-attendance-calls"
    # The edited write-up's old chunks took their sentence vectors with them; its new chunks
    # have theirs, one per sentence.
    reader = engine.reader()
    assert reader.sentences is not None and report.sentences_embedded > 0
    stored = {int(c) for (c,) in reader.conn().execute("SELECT DISTINCT chunk_id FROM sentences")}
    assert stored == set(reader.chunk_doc)
    doc = reader.by_slug["first-day-attendance-calls"]
    texts = load_chunks(reader.conn(), reader.doc_chunks[doc.id].tolist())
    for chunk_id, (_, _, text) in texts.items():
        assert len(reader.sentences.of(chunk_id)) == len(sentence_spans(text))


def test_deleted_file_disappears_from_search(fresh: Settings, embedder) -> None:  # type: ignore
    engine = SearchEngine(fresh.index_dir, embedder, reload_seconds=0)
    assert "whole-class-feedback-science" in slugs(engine, "feedback sheets")
    (fresh.practice_dir / "whole-class-feedback-science.md").unlink()
    _, report = index_content(fresh, embedder, progress=False)
    assert report.removed == ["whole-class-feedback-science"]
    assert "whole-class-feedback-science" not in slugs(engine, "feedback sheets")
    assert engine.reader().vectors.size == len(engine.reader().chunk_doc)


def test_new_file_is_added_and_findable(fresh: Settings, embedder, tmp_path: Path) -> None:  # type: ignore
    text = (fresh.practice_dir / "weekly-quizzes-year-7-maths.md").read_text()
    write(fresh, "ukulele-ensembles", text.replace(
        "Weekly low-stakes quizzes in Year 7 maths", "Ukulele ensembles in Year 8 music")
          .replace("subjects: [maths]", "subjects: [music]"))
    _, report = index_content(fresh, embedder, progress=False)
    assert report.added == ["ukulele-ensembles"]
    engine = SearchEngine(fresh.index_dir, embedder)
    assert slugs(engine, "ukulele")[0] == "ukulele-ensembles"


@pytest.mark.parametrize("damage", ["truncate_vectors", "delete_vectors", "corrupt_db",
                                    "delete_pointer", "garbage_manifest", "delete_all"])
def test_damaged_or_missing_index_is_rebuilt(fresh: Settings, embedder, damage: str) -> None:  # type: ignore
    gen = gens.current_generation(fresh.index_dir)
    assert gen is not None
    if damage == "truncate_vectors":
        data = (gen / gens.VECTORS).read_bytes()
        (gen / gens.VECTORS).write_bytes(data[:100])
    elif damage == "delete_vectors":
        (gen / gens.VECTORS).unlink()
    elif damage == "corrupt_db":
        (gen / gens.STORE).write_bytes(b"this is not a database" * 100)
    elif damage == "delete_pointer":
        (fresh.index_dir / gens.POINTER).unlink()
    elif damage == "garbage_manifest":
        (gen / gens.MANIFEST).write_text("{not json")
    else:
        import shutil
        shutil.rmtree(fresh.data_dir)
    _, report = index_content(fresh, embedder, progress=False)
    assert report.full and report.chunks_embedded > 0
    engine = SearchEngine(fresh.index_dir, embedder)
    assert engine.health()["semantic"] == "ok"
    assert slugs(engine, "phone calls home when a child is absent")[0] == \
        "first-day-attendance-calls"


def test_model_change_forces_full_rebuild(fresh: Settings, embedder) -> None:  # type: ignore
    gen = gens.current_generation(fresh.index_dir)
    manifest = json.loads((gen / gens.MANIFEST).read_text())
    manifest["model"] = "some-other-model"
    (gen / gens.MANIFEST).write_text(json.dumps(manifest))
    _, report = index_content(fresh, embedder, progress=False)
    assert report.full and "model changed" in report.reason


def test_crash_mid_build_leaves_previous_index_serving(fresh: Settings, embedder,
                                                       monkeypatch) -> None:  # type: ignore
    engine = SearchEngine(fresh.index_dir, embedder, reload_seconds=0)
    before = slugs(engine, "quizzes")
    generation = engine.health()["generation"]
    path = fresh.practice_dir / "weekly-quizzes-year-7-maths.md"
    path.write_text(path.read_text().replace("ten-question", "twelve-question"))

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("indexer.vectors.VectorIndex.save", explode)
    with pytest.raises(OSError):
        index_content(fresh, embedder, progress=False)
    assert engine.health()["generation"] == generation
    assert slugs(engine, "quizzes") == before
    monkeypatch.undo()
    _, report = index_content(fresh, embedder, progress=False)
    assert report.updated == ["weekly-quizzes-year-7-maths"]
    leftovers = [p.name for p in fresh.index_dir.iterdir() if p.name.endswith(".building")]
    assert leftovers == []


def test_running_engine_swaps_to_new_generation(fresh: Settings, embedder) -> None:  # type: ignore
    engine = SearchEngine(fresh.index_dir, embedder, reload_seconds=0)
    old = engine.health()["generation"]
    (fresh.practice_dir / "fortnightly-instructional-coaching.md").unlink()
    index_content(fresh, embedder, progress=False)
    assert engine.health()["generation"] != old
    assert engine.health()["documents"] == 5


def test_generations_are_swept(fresh: Settings, embedder) -> None:  # type: ignore
    for n in range(3):
        path = fresh.practice_dir / "reading-catch-up-year-5.md"
        path.write_text(path.read_text() + f"\nEdit {n}.\n")
        index_content(fresh, embedder, progress=False)
    finished = [p for p in fresh.index_dir.iterdir() if gens.GEN_RE.match(p.name)]
    assert len(finished) == 2
    assert gens.current_generation(fresh.index_dir) in finished
