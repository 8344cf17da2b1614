"""The sentence marked in a result: chosen by the query's words, then by meaning (real model),
and the snippet cut around it."""

from __future__ import annotations

import numpy as np

from indexer.embedders.base import Embedder
from indexer.search.engine import SearchEngine, SearchQuery
from indexer.search.sentences import SentenceVectors, best_span, sentence_spans, window

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
    vectors = SentenceVectors(embedder).of([TEXT])[0]
    query = embedder.encode_query("pupils cannot remember what they learnt last term")
    start, end = best_span(TEXT, ((TEXT, False),), vectors, query) or (0, 0)
    assert TEXT[start:end].startswith("Our Year 7 classes forgot")
    query = embedder.encode_query("a weekly test to revise old topics")
    start, end = best_span(TEXT, ((TEXT, False),), vectors, query) or (0, 0)
    assert TEXT[start:end].startswith("Every Friday")


def test_the_query_words_come_first_then_meaning(embedder: Embedder) -> None:
    at = TEXT.index("library")
    marked = ((TEXT[:at], False), ("library", True), (TEXT[at + 7:], False))
    vectors = SentenceVectors(embedder).of([TEXT])[0]
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


def test_sentence_vectors_are_kept_and_bounded(embedder: Embedder) -> None:
    store = SentenceVectors(embedder, capacity=5)
    first = store.of([TEXT])[0]
    assert first.shape == (4, embedder.dim)
    assert np.allclose(store.of([TEXT])[0], first)
    store.of(["One more sentence of five words. And another one of five words."])
    assert store._held <= 5  # the oldest passage's sentences were dropped


def test_a_result_found_by_meaning_marks_its_nearest_sentence(engine: SearchEngine) -> None:
    hits = engine.search(SearchQuery("kids forget stuff from previous lessons")).hits
    hit = next(h for h in hits if h.doc.slug == "weekly-quizzes-year-7-maths")
    text = "".join(t for t, _ in hit.snippet)
    start, end = hit.best_sentence
    assert end > start
    assert "forgot" in text[start:end] or "remember" in text[start:end], text[start:end]
