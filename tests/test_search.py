"""Hybrid search over a real index: meaning, filters, facets, browse, related, hostile input."""

from __future__ import annotations

import pytest

from indexer import keyword
from indexer.embedders.base import Embedder
from indexer.search.engine import SearchEngine, SearchQuery
from kb.errors import BadInputError, NotFoundError
from kb.settings import Settings


def run(engine: SearchEngine, text: str = "", page_size: int = 50, **filters):  # type: ignore
    return engine.search(SearchQuery(text, {k: tuple(v) for k, v in filters.items()},
                                     page_size=page_size))


def test_query_sharing_no_keyword_is_found_by_meaning(engine: SearchEngine) -> None:
    query = "kids forget stuff from previous lessons"
    doc = engine.document("weekly-quizzes-year-7-maths")
    own_words = set(keyword.query_terms(f"{doc.title} {doc.summary} {doc.body}"[:100_000]))
    assert not set(keyword.query_terms(query)) & own_words  # none of its words in the text
    dense_only = SearchEngine(engine.index_dir, engine.embedder,
                              params=type(engine.params)(mode="dense"))
    assert run(dense_only, query).hits[0].doc.slug == "weekly-quizzes-year-7-maths"
    dense_only.close()
    hits = run(engine, query).hits
    assert "weekly-quizzes-year-7-maths" == hits[0].doc.slug


def test_best_section_and_highlighted_snippet(engine: SearchEngine) -> None:
    hit = run(engine, "persistent absence phone").hits[0]
    assert hit.doc.slug == "first-day-attendance-calls"
    assert hit.anchor in ("", "context", "what-we-did", "impact")
    assert any(is_hit for _, is_hit in hit.snippet)
    marked = [text.lower() for text, is_hit in hit.snippet if is_hit]
    assert any(t.startswith(("absence", "phone", "persistent")) for t in marked)


@pytest.mark.parametrize(("query", "anchor"), [
    ("attendance officer visited after the third day", "what-we-did"),
    ("share the calls between tutors sooner", "what-we-would-change"),
    ("a script for the calls, one member of staff every morning", "how-to-adopt-it"),
])
def test_the_section_shown_is_the_one_the_query_describes(engine: SearchEngine, query: str,
                                                          anchor: str) -> None:
    hit = next(h for h in run(engine, query).hits if h.doc.slug == "first-day-attendance-calls")
    assert hit.anchor == anchor


def test_filters_apply_before_ranking_and_within_field_is_or(engine: SearchEngine) -> None:
    maths = run(engine, "pupils", subjects=["maths"])
    assert {h.doc.slug for h in maths.hits} == {"weekly-quizzes-year-7-maths",
                                                "small-group-maths-tuition-year-11"}
    either = run(engine, "", subjects=["maths", "science"])
    assert either.total == 3
    both = run(engine, "", subjects=["maths"], key_stages=["ks4"])
    assert [h.doc.slug for h in both.hits] == ["small-group-maths-tuition-year-11"]
    assert run(engine, "", family=["eastmere"], year=["2018"]).total == 1


def test_facet_counts_are_disjunctive_and_exact(engine: SearchEngine) -> None:
    results = run(engine, "", subjects=["maths"])
    subjects = {f.value: (f.count, f.selected) for f in results.facets["subjects"]}
    # Counts for the filtered field ignore that field's own filter (OR within a field).
    assert subjects["maths"] == (2, True) and subjects["english"] == (1, False)
    assert subjects["whole-school"] == (2, False)
    groups = {f.value: f.count for f in results.facets["pupil_groups"]}
    assert groups == {"disadvantaged": 1}
    strengths = {f.value: f.count for f in results.facets["evidence_strength"]}
    assert strengths == {"promising": 1, "established": 1}


def test_browse_is_newest_first_and_skips_drafts(engine: SearchEngine) -> None:
    results = run(engine, "")
    dates = [h.doc.date for h in results.hits]
    assert results.mode == "browse" and results.total == 6 and dates == sorted(dates, reverse=True)


def test_pagination_splits_results(engine: SearchEngine) -> None:
    page1 = engine.search(SearchQuery("", {}, page=1, page_size=4))
    page2 = engine.search(SearchQuery("", {}, page=2, page_size=4))
    assert page1.pages == 2 and len(page1.hits) == 4 and len(page2.hits) == 2
    assert not {h.doc.slug for h in page1.hits} & {h.doc.slug for h in page2.hits}


@pytest.mark.parametrize("query", [
    '"unbalanced', "NEAR(maths quiz", "AND", "OR", "*", "-", "maths -quiz", "title:maths",
    "((maths))", "😀😀", "x" * 10_000, "''", "\x00", "SELECT * FROM documents; --",
    "quiz*", "^maths", "{maths}",
])
def test_hostile_queries_never_raise(engine: SearchEngine, query: str) -> None:
    results = run(engine, query)
    assert results.total >= 0
    if len(query) > 300:
        assert results.notices and "first 300 characters" in results.notices[0]


def test_unknown_filter_field_is_bad_input(engine: SearchEngine) -> None:
    with pytest.raises(BadInputError, match="unknown filter 'colour'"):
        run(engine, "x", colour=["red"])


def test_related_excludes_itself_and_ranks_by_meaning(engine: SearchEngine) -> None:
    related = engine.related("small-group-maths-tuition-year-11", k=3)
    slugs = [d.slug for d, _ in related]
    assert "small-group-maths-tuition-year-11" not in slugs and len(slugs) == 3
    assert slugs[0] in ("weekly-quizzes-year-7-maths", "reading-catch-up-year-5")
    with pytest.raises(NotFoundError):
        engine.related("no-such-write-up")


def test_repeated_query_is_served_from_cache(engine: SearchEngine) -> None:
    first = run(engine, "coaching observations")
    again = run(engine, "coaching observations")
    assert again is first


def test_feedback_runs_only_when_the_query_matches_by_meaning(engine: SearchEngine) -> None:
    params = type(engine.params)
    without = SearchEngine(engine.index_dir, engine.embedder, params=params(prf_docs=0))

    def ranking(e: SearchEngine, text: str) -> list[tuple[str, float]]:
        return [(h.doc.slug, h.score) for h in run(e, text).hits]

    # Nothing in the library is about this: feedback would only drift, so it is skipped.
    nonsense = "qwzx pelican trombone"
    assert (run(engine, nonsense).confidence or 0.0) < engine.params.prf_min_similarity
    assert ranking(engine, nonsense) == ranking(without, nonsense)
    # A real question moves towards its best passages and rescores the write-ups.
    question = "pupils forgetting earlier topics"
    assert (run(engine, question).confidence or 0.0) >= engine.params.prf_min_similarity
    assert ranking(engine, question) != ranking(without, question)


def test_close_stops_the_keyword_workers(built: Settings, embedder: Embedder) -> None:
    engine = SearchEngine(built.index_dir, embedder)
    run(engine, "coaching observations")
    assert engine.worker_threads()  # the keyword side ran on a worker
    engine.close()
    assert engine.worker_threads() == []


def test_server_shutdown_closes_its_engine(built: Settings, embedder: Embedder) -> None:
    from fastapi.testclient import TestClient

    from webapp.app import create_app

    with TestClient(create_app(built, embedder=embedder)) as client:
        assert client.get("/api/search", params={"q": "coaching"}).status_code == 200
        engine = client.app.state.services.engine  # type: ignore[attr-defined]
        assert engine.worker_threads()
    assert engine.worker_threads() == []
