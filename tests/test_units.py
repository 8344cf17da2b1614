"""Pure pieces: chunking, fusion, keyword query building, settings."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from indexer.chunking import chunk_document
from indexer.keyword import match_expression, query_terms, split_marked
from indexer.records import IndexDoc
from indexer.search.fusion import minmax, rank, ranked_slots, weighted_fusion
from kb.errors import BadInputError
from kb.settings import load_settings


def test_chunks_start_with_summary_and_split_long_sections() -> None:
    body = "## Context\n\n" + " ".join(f"w{i}" for i in range(400)) + "\n\n## Impact\n\nUp.\n"
    doc = IndexDoc("s", "Title", "A summary.", body, "h")
    chunks = chunk_document(doc, max_words=160, overlap=30)
    assert chunks[0].heading == "Summary" and chunks[0].text == "A summary."
    context = [c for c in chunks if c.heading == "Context"]
    assert len(context) == 3 and all(len(c.text.split()) <= 160 for c in context)
    assert context[1].text.split()[0] == "w130"  # 30 words of overlap
    assert chunks[-1].heading == "Impact" and chunks[-1].anchor == "impact"
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert chunks[1].embed_text("Title").startswith("Title. Context: w0")


def test_minmax_and_weighted_fusion_over_score_arrays() -> None:
    missing = -np.inf
    assert minmax(np.array([2.0, 4.0, missing])).tolist() == [0.0, 1.0, 0.0]
    assert minmax(np.array([3.0, missing])).tolist() == [1.0, 0.0]
    keyword = np.array([10.0, 0.0, missing, missing])
    dense = np.array([missing, 0.9, 0.1, missing])
    fused = weighted_fusion(keyword, dense, keyword_weight=0.25)
    assert fused[:3] == pytest.approx([0.25, 0.75, 0.0]) and fused[3] == missing
    assert ranked_slots(fused).tolist() == [1, 0, 2]
    assert ranked_slots(fused, among=np.array([True, False, True, True])).tolist() == [0, 2]
    assert rank({"a": 0.25, "b": 0.75, "c": 0.0}) == ["b", "a", "c"]


def test_ties_rank_by_slot() -> None:
    assert ranked_slots(np.array([0.5, 0.9, 0.5, -np.inf])).tolist() == [1, 0, 2]


@pytest.mark.parametrize("query", [
    '"unbalanced', "multi-agent", "AND", "OR NOT", "*", "NEAR(a b", "title:foo", "-x",
    "a\"b'c", "((()))", "😀 emoji", "x" * 10_000, "", "   ", "^caret", "col:val AND (",
])
def test_hostile_queries_make_valid_fts_expressions(query: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(title, heading, text, "
                 "tokenize='porter unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t VALUES ('multi agent title', 'near', 'and or not foo')")
    terms = query_terms(query)
    assert len(terms) <= 32
    if terms:
        conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (match_expression(terms),)).fetchall()


@pytest.mark.parametrize("terms", [["AND"], ["NEAR(a"], ['a"b'], ["title:foo"], ["-x"],
                                   ["*"], ["OR", "NOT"], ["multi-agent"]])
def test_match_expression_quotes_every_term_even_past_query_terms(terms: list[str]) -> None:
    """Reliability row 28, second line of defence: query_terms already keeps only words, but
    match_expression alone must also turn FTS5 syntax into literal strings (the unquoted join
    passed every other test, because no operator survives query_terms)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(text)")
    conn.execute("INSERT INTO t VALUES ('and near title foo x or not multi agent')")
    conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (match_expression(terms),)).fetchall()


def test_query_terms_drop_stop_words_but_keep_a_stop_word_only_query() -> None:
    assert query_terms("How do we improve the attendance of boys?") == [
        "improve", "attendance", "boys"]
    assert query_terms("the") == ["the"]


def test_split_marked_turns_markers_into_segments() -> None:
    assert split_marked("a \x02hit\x03 b") == (("a ", False), ("hit", True), (" b", False))
    assert split_marked("\x02one\x03\x02two\x03") == (("one", True), ("two", True))
    assert split_marked("no hits here") == (("no hits here", False),)
    assert split_marked("cut \x02short") == (("cut ", False), ("short", False))


def test_settings_read_environment_then_overrides() -> None:
    settings = load_settings({"KB_PORT": "9001", "KB_DATA_DIR": "/tmp/x"}, port=9002)
    assert settings.port == 9002 and str(settings.data_dir) == "/tmp/x"
    with pytest.raises(BadInputError, match="KB_PORT must be a whole number"):
        load_settings({"KB_PORT": "eighty"})
