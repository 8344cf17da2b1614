"""Query expansion from taxonomy aliases: the phrase matcher, and what it does to real searches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from indexer import generations as gens
from indexer.pipeline import index_content, update_index
from indexer.records import from_document
from indexer.search.engine import SearchEngine, SearchParams, SearchQuery
from indexer.search.expansion import MAX_TERMS, QueryExpander, expanded_text, vocabulary
from kb.content.library import load_library
from kb.content.taxonomy import load_taxonomy
from kb.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def expander() -> QueryExpander:
    return QueryExpander(vocabulary(load_taxonomy(ROOT / "content" / "taxonomy.yaml")))


def named(expander: QueryExpander, text: str) -> list[tuple[str, str]]:
    return [(e.term, e.matched) for e in expander.expand(text)]


def test_acronyms_and_aliases_name_their_terms_as_typed(expander: QueryExpander) -> None:
    assert named(expander, "LAC attendance") == [("looked-after", "LAC")]
    assert named(expander, "Free School Meals pupils in KS3") == [
        ("disadvantaged", "Free School Meals"), ("ks3", "KS3")]
    assert named(expander, "D&T coursework for more able pupils") == [
        ("design-technology", "D&T"), ("high-prior-attainment", "more able")]


def test_the_longest_phrase_wins_and_one_phrase_may_name_two_terms(
        expander: QueryExpander) -> None:
    # "assessment for learning" is one phrase (feedback); "sixth form" is a phase and a stage.
    assert named(expander, "ks 3 assessment for learning") == [
        ("ks3", "ks 3"), ("feedback", "assessment for learning")]
    assert named(expander, "sixth form study") == [("post-16", "sixth form"),
                                                   ("ks5", "sixth form")]
    assert named(expander, "my new sixth formers") == [("post-16", "sixth formers"),
                                                       ("ks5", "sixth formers")]


def test_no_expansion_for_stop_words_judgements_or_labels_already_typed(
        expander: QueryExpander) -> None:
    assert named(expander, "how do I make it stick") == []  # "it" is an alias of computing
    assert named(expander, "strong readers") == []  # an evidence-strength alias
    assert named(expander, "EAL") == []  # the label itself: nothing to add
    assert named(expander, "Looked-after children and LAC") == []


def test_at_most_a_few_terms_expand_a_query(expander: QueryExpander) -> None:
    found = expander.expand("PP SEN EAL HPA LAC KS1 KS2 D&T")
    assert len(found) == MAX_TERMS
    assert expanded_text("PP", found[:1]) == "PP (Disadvantaged pupils)"
    assert expanded_text("LAC and FSM", found[:0]) == "LAC and FSM"


def test_an_acronym_the_write_ups_never_use_finds_them(built: Settings, embedder,  # type: ignore
                                                        tmp_path: Path) -> None:
    """'FSM' appears in no fixture write-up; the two tagged disadvantaged come first with the
    expansion and are not both found without it (an index built with no phrases)."""
    tagged = {"first-day-attendance-calls", "small-group-maths-tuition-year-11"}
    results = SearchEngine(built.index_dir, embedder).search(SearchQuery("FSM"))
    assert {h.doc.slug for h in results.hits[:2]} == tagged
    assert results.notices == ("Also searched for Disadvantaged pupils (for “FSM”).",)

    docs = [from_document(d) for d in load_library(built).published()]
    update_index(tmp_path / "plain", docs, embedder, progress=False)
    plain = SearchEngine(tmp_path / "plain", embedder).search(SearchQuery("FSM"))
    assert plain.notices == ()
    assert {h.doc.slug for h in plain.hits[:2]} != tagged


def test_write_ups_tagged_with_a_named_term_gain_the_tag_weight(built: Settings,  # type: ignore
                                                                   embedder) -> None:
    scored = {}
    for weight in (0.0, 0.2):
        engine = SearchEngine(built.index_dir, embedder, params=SearchParams(tag_weight=weight))
        scored[weight] = {h.doc.slug: h.score for h in
                          engine.search(SearchQuery("FSM maths and science feedback",
                                                            page_size=20)).hits}
    assert scored[0.0].keys() == scored[0.2].keys()
    # The query names two terms (FSM, maths): tagged with both gains 0.2, with one of them 0.1.
    gains = {slug: round(scored[0.2][slug] - scored[0.0][slug], 3) for slug in scored[0.0]}
    assert gains["small-group-maths-tuition-year-11"] == 0.2  # disadvantaged and maths
    assert gains["first-day-attendance-calls"] == 0.1  # disadvantaged only
    assert gains["weekly-quizzes-year-7-maths"] == 0.1  # maths only
    untagged = set(gains) - {"small-group-maths-tuition-year-11", "first-day-attendance-calls",
                             "weekly-quizzes-year-7-maths"}
    assert untagged and all(gains[slug] == 0.0 for slug in untagged)


def test_a_new_alias_alone_publishes_a_generation_that_uses_it(fresh: Settings,  # type: ignore
                                                                embedder) -> None:
    engine = SearchEngine(fresh.index_dir, embedder, reload_seconds=0)
    assert engine.search(SearchQuery("TLAC")).notices == ()
    before = gens.current_generation(fresh.index_dir)
    taxonomy = fresh.content_dir / "taxonomy.yaml"
    text = taxonomy.read_text(encoding="utf-8")
    taxonomy.write_text(text.replace("aliases: [coaching, teacher coaching,",
                                     "aliases: [tlac, coaching, teacher coaching,", 1),
                        encoding="utf-8")
    _, report = index_content(fresh, embedder, progress=False)
    assert report.changed and report.chunks_embedded == 0
    assert report.reason == "the search phrases or best bets changed"
    assert gens.current_generation(fresh.index_dir) != before
    results = engine.search(SearchQuery("TLAC"))
    assert results.notices and "(for “TLAC”)" in results.notices[0]
    assert results.hits[0].doc.slug == "fortnightly-instructional-coaching"


def test_malformed_phrases_in_a_manifest_are_skipped_not_fatal(fresh: Settings,  # type: ignore
                                                                 embedder) -> None:
    manifest_path = gens.current_generation(fresh.index_dir) / gens.MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    good = next(e for e in manifest["expansions"] if e["term"] == "disadvantaged")
    manifest["expansions"] = [{"field": 1}, "junk", {**good, "phrases": "fsm"}, good]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    results = SearchEngine(fresh.index_dir, embedder).search(SearchQuery("FSM"))
    assert results.notices == ("Also searched for Disadvantaged pupils (for “FSM”).",)
    manifest["expansions"] = {"not": "a list"}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    engine = SearchEngine(fresh.index_dir, embedder)
    assert engine.search(SearchQuery("FSM")).notices == ()
    assert engine.search(SearchQuery("maths tuition")).hits[0].doc.slug == \
        "small-group-maths-tuition-year-11"


def test_the_search_page_says_what_else_was_searched_for(client: TestClient) -> None:
    page = client.get("/search", params={"q": "FSM"}).text
    assert "Also searched for Disadvantaged pupils (for “FSM”)." in page


def test_contractions_never_name_a_term() -> None:
    from indexer.search.expansion import QueryExpander, words

    expander = QueryExpander([{"field": "subjects", "term": "re", "label": "Religious education",
                               "phrases": ["re"]},
                              {"field": "pupil_groups", "term": "looked-after",
                               "label": "Looked-after children",
                               "phrases": ["lac"]}])
    assert expander.expand("we're struggling and they’re bored") == []
    assert [e.term for e in expander.expand("RE lessons")] == ["re"]
    assert [e.term for e in expander.expand("our LAC's progress")] == \
        ["looked-after"]
    assert words("We're D&T") == ("we", "d", "t")
