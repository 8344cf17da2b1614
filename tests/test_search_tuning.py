"""Curators teach the search (content/search.yaml): taught phrases and best bets are validated
with file:line, edited atomically, and take effect by republishing without re-embedding."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.embedders.base import Embedder
from indexer.pipeline import index_content
from indexer.search.engine import SearchEngine, SearchQuery
from kb.content.library import load_library
from kb.curation.catalogue import load_curation
from kb.curation.search_tuning import SearchTuningEditor, normalise_query, parse_search_tuning
from kb.errors import BadInputError, NotFoundError
from kb.settings import Settings

GOOD = "first-day-attendance-calls"


def editor(settings: Settings) -> SearchTuningEditor:
    library = load_library(settings)
    return SearchTuningEditor(settings.content_dir, library.taxonomy,
                              {d.slug for d in library.published()}, set())


def test_broken_entries_are_named_by_line_and_skipped(fresh: Settings) -> None:
    taxonomy = load_library(fresh).taxonomy
    text = ("aliases:\n  - phrase: kicking off\n    field: interventions\n    term: behaviour\n"
            "  - phrase: x\n    field: interventions\n    term: no-such-term\n"
            "best_bets:\n  - query: phone calls\n    practice: " + GOOD + "\n"
            "  - query: nothing\n    practice: missing-write-up\n  - query: both\n"
            "    practice: " + GOOD + "\n    collection: c\nsurprise: 1\n")
    tuning = parse_search_tuning("content/search.yaml", text, taxonomy, {GOOD}, set())
    assert [a.phrase for a in tuning.aliases] == ["kicking off"]
    assert [b.slug for b in tuning.best_bets] == [GOOD]
    lines = sorted((p.line, p.field) for p in tuning.problems)
    assert lines == [(5, "aliases.term"), (11, "best_bets.practice"), (13, "best_bets"),
                     (16, "surprise")]


def test_malformed_file_is_one_problem_not_a_crash(fresh: Settings) -> None:
    (fresh.content_dir / "search.yaml").write_text("aliases: [unclosed\n")
    curation = load_curation(fresh)
    assert any(p.path == "content/search.yaml" and p.line for p in curation.problems)
    assert curation.tuning.aliases == ()


def test_editor_refuses_an_invalid_change_and_leaves_the_file(fresh: Settings) -> None:
    edit = editor(fresh)
    edit.add_alias("kids kicking off", "interventions", "behaviour", by="a@b.example")
    before = (fresh.content_dir / "search.yaml").read_text()
    with pytest.raises(BadInputError, match="aliases.term"):
        edit.add_alias("nonsense", "interventions", "no-such-term", by="a@b.example")
    with pytest.raises(BadInputError, match="best_bets.practice"):
        edit.add_best_bet("anything", "practice", "missing-write-up", "", by="a@b.example")
    assert (fresh.content_dir / "search.yaml").read_text() == before
    with pytest.raises(NotFoundError):
        edit.remove_alias("never taught", "interventions")


def test_taught_phrase_and_best_bet_apply_without_re_embedding(fresh: Settings,
                                                               embedder: Embedder) -> None:
    engine = SearchEngine(fresh.index_dir, embedder)
    assert engine.search(SearchQuery("kids doing a vanishing act")).expanded == ()
    edit = editor(fresh)
    edit.add_alias("doing a vanishing act", "interventions", "attendance", by="c@school.example")
    edit.add_best_bet("Doing a vanishing act!", "practice", "whole-class-feedback-science",
                      "Curator's pick", by="c@school.example")
    _, report = index_content(fresh, embedder, progress=False)
    assert report.chunks_embedded == 0 and report.rephrased
    engine.refresh()
    results = engine.search(SearchQuery("kids doing a vanishing act"))
    assert ("interventions", "attendance", "Attendance") in results.expanded
    pinned = engine.search(SearchQuery("doing a vanishing act"))
    assert pinned.hits[0].doc.slug == "whole-class-feedback-science"
    assert pinned.hits[0].recommended == "Curator's pick"
    assert pinned.best_bets == (("practice", "whole-class-feedback-science", "Curator's pick"),)
    edit.remove_best_bet("doing a   vanishing act", "practice", "whole-class-feedback-science")
    index_content(fresh, embedder, progress=False)
    engine.refresh()
    assert engine.search(SearchQuery("doing a vanishing act")).best_bets == ()
    engine.close()


def test_queries_compare_word_for_word() -> None:
    assert normalise_query("  Bunking OFF?! ") == "bunking off"
    assert normalise_query("<script>") == "script"


def test_kb_validate_reports_search_tuning_problems(fresh: Settings, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    (fresh.content_dir / "search.yaml").write_text(
        "best_bets:\n  - query: q\n    practice: missing\n")
    result = CliRunner().invoke(cli, ["--content-dir", str(fresh.content_dir), "--data-dir",
                                      str(fresh.data_dir), "validate"], catch_exceptions=False)
    assert "content/search.yaml:2" in result.output and "best_bets.practice" in result.output
