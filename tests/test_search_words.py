"""Search in teachers' own words: spelling correction, strong and related results, reasons,
sorting and the document-level passage (real model, real index of the fixture library)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from indexer.chunking import PROFILE_HEADING, chunk_document
from indexer.records import from_document, tag_glossary
from indexer.search.engine import SearchEngine, SearchQuery
from indexer.search.spelling import Speller
from kb.content.library import load_library
from kb.settings import Settings


def run(engine: SearchEngine, text: str, **kw: object):  # type: ignore[no-untyped-def]
    return engine.search(SearchQuery(text, **kw))  # type: ignore[arg-type]


def test_a_misspelt_word_is_corrected_to_the_librarys_word(engine: SearchEngine) -> None:
    results = run(engine, "persistnt absnce")
    assert results.corrected_from == "persistnt absnce"
    assert results.searched == "persistent absence"
    assert results.hits[0].doc.slug == "first-day-attendance-calls"


def test_search_instead_for_the_words_as_typed(engine: SearchEngine) -> None:
    results = run(engine, "persistnt absnce", exact=True)
    assert results.corrected_from == "" and results.searched == "persistnt absnce"


@pytest.mark.parametrize("query", [
    "kids who snowball into weeks off", "Ashcombe quizzes", "LAC and FSM pupils",
    "who've tried coaching", "quiz in y7",  # short words are left alone
])
def test_correct_words_names_and_acronyms_are_never_corrected(engine: SearchEngine,
                                                              query: str) -> None:
    assert run(engine, query).corrected_from == ""


def test_the_speller_leaves_names_alone_and_is_bounded() -> None:
    speller = Speller(Counter({"coaching": 5, "smith": 9}), names=["Anna Smyth"])
    assert speller.correct("smyth coachng").changes == (("coachng", "coaching"),)
    long_query = "coachng " * 5000
    assert len(speller.correct(long_query).changes) == 40  # at most MAX_WORDS looked at


def test_a_corrected_query_is_still_escaped_for_fts(engine: SearchEngine) -> None:
    results = run(engine, 'persistant" OR absense NEAR(')
    assert results.total >= 1  # no FTS5 syntax error, no operator leaked


def test_strong_results_come_first_then_related_ones(engine: SearchEngine) -> None:
    strict = SearchEngine(engine.index_dir, engine.embedder,
                          params=replace(engine.params, strong_ratio=0.95))
    results = run(strict, "help pupils catch up", page_size=20)
    groups = [h.group for h in results.hits]
    assert groups[0] == "strong" and groups == sorted(groups, key=lambda g: g != "strong")
    assert results.strong_total == groups.count("strong") < results.total
    strict.close()


def test_each_hit_says_which_words_matched_and_which_named_tags_it_has(
        engine: SearchEngine) -> None:
    hit = run(engine, "persistent absence").hits[0]
    assert "absence" in hit.matched_words
    # "bunking off" is a taxonomy alias of Attendance: the hit is tagged with what was named
    tagged = run(engine, "kids bunking off").hits[0]
    assert tagged.doc.slug == "first-day-attendance-calls"
    assert ("interventions", "attendance") in tagged.shared_tags


def test_no_highlight_on_stop_words_or_single_letters(engine: SearchEngine) -> None:
    for hit in run(engine, "the a of and phone").hits:
        marked = [t.casefold() for t, is_hit in hit.snippet if is_hit]
        assert not {"the", "a", "of", "and"} & set(marked)


def test_sort_by_newest_and_by_evidence_within_each_group(engine: SearchEngine) -> None:
    newest = run(engine, "", sort="newest").hits
    assert [h.doc.date for h in newest] == sorted((h.doc.date for h in newest), reverse=True)
    strongest = run(engine, "", sort="evidence").hits
    order = {"established": 3, "promising": 2, "emerging": 1}
    ranks = [order[h.doc.tags["evidence_strength"][0]] for h in strongest]
    assert ranks == sorted(ranks, reverse=True)
    query = run(engine, "pupils", sort="newest", page_size=20)
    strong = [h.doc.date for h in query.hits if h.group == "strong"]
    assert strong == sorted(strong, reverse=True)


def test_unknown_sort_is_bad_input(engine: SearchEngine) -> None:
    from kb.errors import BadInputError

    with pytest.raises(BadInputError, match="sort must be one of"):
        run(engine, "x", sort="random")


def test_every_write_up_gets_a_passage_in_the_taxonomy_words(built: Settings) -> None:
    library = load_library(built)
    glossary = tag_glossary(library.taxonomy)
    doc = next(d for d in library.published() if d.slug == "first-day-attendance-calls")
    record = from_document(doc, glossary)
    chunks = chunk_document(record)
    assert chunks[-1].heading == PROFILE_HEADING
    assert "Attendance" in chunks[-1].text
    assert record.content_hash != from_document(doc).content_hash  # glossary changes re-embed
