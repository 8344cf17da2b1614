"""The sentence marked in a result: chosen by the query's words, then by meaning (real model),
and the snippet cut around it."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from indexer import store
from indexer.embedders.base import Embedder
from indexer.search.engine import SearchEngine, SearchQuery
from indexer.search.fusion import weighted_fusion
from indexer.search.sentences import SentenceIndex, best_span, sentence_spans, window
from indexer.store import load_chunks
from kb.settings import Settings

TEXT = ("Our Year 7 classes forgot fractions within weeks of each unit ending. Attendance was "
        "86.4% on Fridays, e.g. lower than on Mondays. Step 1. Every Friday each class sat a "
        "ten-question quiz on earlier units. The school has a new library.")


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_sentences_end_at_a_stop_before_a_capital_not_inside_numbers_or_abbreviations() -> None:
    assert sentences(TEXT) == [
        "Our Year 7 classes forgot fractions within weeks of each unit ending.",
        "Attendance was 86.4% on Fridays, e.g. lower than on Mondays. Step 1.",
        "Every Friday each class sat a ten-question quiz on earlier units.",
        "The school has a new library."]


def test_meaning_decides_when_the_passage_shares_no_word(embedder: Embedder) -> None:
    vectors = embedder.encode_documents(sentences(TEXT))
    query = embedder.encode_query("pupils cannot remember what they learnt last term")
    start, end = best_span(TEXT, ((TEXT, False),), vectors, query) or (0, 0)
    assert TEXT[start:end].startswith("Our Year 7 classes forgot")
    query = embedder.encode_query("a weekly test to revise old topics")
    start, end = best_span(TEXT, ((TEXT, False),), vectors, query) or (0, 0)
    assert TEXT[start:end].startswith("Every Friday")


def test_the_query_words_come_first_then_meaning(embedder: Embedder) -> None:
    at = TEXT.index("library")
    marked = ((TEXT[:at], False), ("library", True), (TEXT[at + 7:], False))
    vectors = embedder.encode_documents(sentences(TEXT))
    query = embedder.encode_query("pupils forget fractions quickly in the library")
    start, end = best_span(TEXT, marked, vectors, query) or (0, 0)
    assert TEXT[start:end] == "The school has a new library."


def test_window_keeps_marks_and_gives_the_sentence_offsets_in_the_snippet() -> None:
    at = TEXT.index("quiz")
    marked = ((TEXT[:at], False), ("quiz", True), (TEXT[at + 4:], False))
    span = (TEXT.index("Every Friday"), TEXT.index("The school") - 1)
    snippet, (a, b) = window(TEXT, marked, span)
    shown = "".join(t for t, _ in snippet)
    assert shown.startswith("… Every Friday")
    assert shown[a:b] == "Every Friday each class sat a ten-question quiz on earlier units."
    assert [t for t, hit in snippet if hit] == ["quiz"]
    long_text = "word " * 200 + "end."
    snippet, (a, b) = window(long_text, ((long_text, False),), (0, len(long_text)))
    assert len("".join(t for t, _ in snippet).split()) < 60  # a long sentence is cut


def test_sentence_index_groups_rows_by_document_and_finds_each_ones_nearest() -> None:
    """Narrow unit test on hand-made unit vectors: chunks 5 and 7 belong to slot 1, chunk 6 to
    slot 0, chunk 9 to no document (a stale row is dropped)."""
    rows = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0]]
    owners = np.asarray([5, 5, 6, 7, 9])
    chunk_slot = np.asarray([-1, -1, -1, -1, -1, 1, 0, 1, -1, -1])
    index = SentenceIndex.build(rows, owners, chunk_slot, 3)
    assert index.of(5).tolist() == rows[:2].tolist() and index.of(9).shape[0] == 0
    query = np.asarray([0, 0.6, 0.8, 0], dtype=np.float32)
    best = index.best(query, np.ones(3, dtype=bool))
    assert best.tolist() == [np.float32(0.8), np.float32(0.6), -np.inf]  # slot 2 has none
    only_first = index.best(query, np.asarray([False, True, True]))
    assert only_first.tolist() == [-np.inf, np.float32(0.6), -np.inf]


def test_the_nearest_sentence_lifts_a_write_up_in_the_fusion() -> None:
    """Two documents with equal passage scores: the one whose best sentence is nearer wins;
    with no sentence weight they tie (narrow unit test of the fusion arithmetic)."""
    keyword = np.asarray([-np.inf, -np.inf, -np.inf], dtype=np.float32)
    dense = np.asarray([0.5, 0.5, 0.2], dtype=np.float32)
    sentences = np.asarray([0.3, 0.6, 0.1], dtype=np.float32)
    plain = weighted_fusion(keyword, dense, 0.2)
    assert plain[0] == plain[1]
    blended = weighted_fusion(keyword, dense, 0.2, sentences, 0.5)
    assert blended[1] > blended[0] > blended[2]


def test_every_passage_sentence_is_stored_with_the_index(engine: SearchEngine) -> None:
    reader = engine.reader()
    assert reader.sentences is not None
    texts = load_chunks(reader.conn(), [int(c) for c in reader.chunk_doc])
    for chunk_id, (_, _, text) in texts.items():
        assert reader.sentences.of(chunk_id).shape == (len(sentence_spans(text)),
                                                         engine.embedder.dim), chunk_id


def test_a_result_found_by_meaning_marks_its_nearest_sentence(engine: SearchEngine) -> None:
    hits = engine.search(SearchQuery("kids forget stuff from previous lessons")).hits
    hit = next(h for h in hits if h.doc.slug == "weekly-quizzes-year-7-maths")
    text = "".join(t for t, _ in hit.snippet)
    start, end = hit.best_sentence
    assert end > start
    assert "forgot" in text[start:end] or "remember" in text[start:end], text[start:end]


QUERY = "pupils who struggle to remember what they were taught"


def test_unreadable_sentence_vectors_leave_search_working_by_passages(
        built: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """An index from before sentence vectors (no table) is served: passages alone are
    compared and snippets are marked by the query's words."""
    def missing(conn: object, dim: int) -> None:
        raise sqlite3.OperationalError("no such table: sentences")
    monkeypatch.setattr(store, "load_sentences", missing)
    engine = SearchEngine(built.index_dir, embedder)
    try:
        results = engine.search(SearchQuery(QUERY))
    finally:
        engine.close()
    assert engine.reader().sentences is None
    assert "sentence vectors" in caplog.text and "passages only" in caplog.text
    assert len(results.hits) > 1 and results.hits[0].matched_words
    monkeypatch.undo()
    with_sentences = SearchEngine(built.index_dir, embedder)
    try:
        again = with_sentences.search(SearchQuery(QUERY))
    finally:
        with_sentences.close()
    assert with_sentences.reader().sentences is not None
    assert [h.score for h in again.hits] != [h.score for h in results.hits]


def test_the_search_process_is_tuned_once(engine: SearchEngine) -> None:
    """Narrow check of indexer.search.runtime on this glibc machine: after an engine exists,
    numpy's BLAS (the one the engine's products use) runs one thread and the malloc threshold
    was set; a second call changes nothing. Libraries loaded later (scipy's own BLAS, by
    other tests) are not the engine's and keep their threads."""
    from threadpoolctl import threadpool_info

    from indexer.search.runtime import tune_process
    assert tune_process() is True and tune_process() is True
    numpy_blas = [pool["num_threads"] for pool in threadpool_info()
                  if pool["user_api"] == "blas" and "numpy" in pool["filepath"]]
    assert numpy_blas == [1]
