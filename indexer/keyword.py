"""Keyword search over the FTS5 table: safe query building, BM25 ranking and snippets."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable

import numpy as np

STOPWORDS = frozenset("""
a about after all also an and any are as at be because been but by can could did do does
for from had has have how i if in into is it its me my of on or our so than that the their
them then there these they this to was we were what when where which who why will with would
you your best way ways should over more most very just get got some such other only own
same too up down out off again further once here both each few nor let us am being having
doing while until against between through during before above below under his her he she
him itself themselves ours yours myself
""".split())
MAX_TERMS = 32
WORD_RE = re.compile(r"\w+", re.UNICODE)
HIT_START, HIT_END = "\x02", "\x03"
# bm25 column weights: title, heading, text.
COLUMN_WEIGHTS = (2.0, 1.0, 1.0)


def query_terms(text: str) -> list[str]:
    """The searchable words of a query: lower-cased, stop words dropped, at most MAX_TERMS."""
    words = [w.lower() for w in WORD_RE.findall(text) if not w.isdigit() or len(w) > 1]
    seen: list[str] = []
    for word in words:
        if word not in STOPWORDS and word not in seen and "_" not in word:
            seen.append(word)
    if not seen:  # a query of only stop words still searches them
        seen = list(dict.fromkeys(w for w in words if "_" not in w))
    return seen[:MAX_TERMS]


def match_expression(terms: Iterable[str]) -> str:
    """An FTS5 MATCH string in which every term is a quoted string: no operator can leak."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def keyword_search(conn: sqlite3.Connection, terms: list[str], limit: int,
                   doc_filter_json: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Chunk ids and scores, best first; a score is the negated BM25 (higher is better)."""
    if not terms:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    weights = ", ".join(str(w) for w in COLUMN_WEIGHTS)
    sql = f"SELECT f.rowid, -bm25(chunks_fts, {weights}) AS s FROM chunks_fts f"
    params: list[object] = [match_expression(terms)]
    if doc_filter_json is not None:
        sql += (" JOIN chunks c ON c.id = f.rowid WHERE chunks_fts MATCH ? AND c.doc_id IN "
                "(SELECT value FROM json_each(?))")
        params.append(doc_filter_json)
    else:
        sql += " WHERE chunks_fts MATCH ?"
    sql += " ORDER BY s DESC LIMIT ?"
    params.append(limit)
    rows = conn.execute(sql, params).fetchall()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    ids, scores = zip(*rows)
    return np.asarray(ids, dtype=np.int64), np.asarray(scores, dtype=np.float32)


def highlight(conn: sqlite3.Connection, terms: list[str], chunk_ids: list[int],
              tokens: int | None = 32) -> dict[int, str]:
    """The chunks' text with hits marked by HIT_START/HIT_END (one query for all): a snippet
    of about `tokens` tokens around the hits, or the whole text when `tokens` is None; chunks
    whose text holds no hit are left out."""
    if not terms or not chunk_ids:
        return {}
    marks = ", ".join("?" * len(chunk_ids))
    shown = "highlight(chunks_fts, 2, ?, ?)" if tokens is None else \
        "snippet(chunks_fts, 2, ?, ?, '…', ?)"
    extra = () if tokens is None else (tokens,)
    rows = conn.execute(
        f"SELECT rowid, {shown} FROM chunks_fts "
        f"WHERE chunks_fts MATCH ? AND rowid IN ({marks})",
        (HIT_START, HIT_END, *extra, match_expression(terms), *chunk_ids)).fetchall()
    return {int(rowid): str(text) for rowid, text in rows if HIT_START in (text or "")}


def split_marked(text: str) -> tuple[tuple[str, bool], ...]:
    """Turn a marked snippet into (text, is_hit) segments (a mark left open is plain text)."""
    first, *marked = text.split(HIT_START)
    segments = [(first, False)] if first else []
    for part in marked:
        hit, closed, rest = part.partition(HIT_END)
        if not closed:
            segments.append((part, False))
            continue
        if hit:  # a hit on a stop word or a single letter is not worth showing
            segments.append((hit, len(hit) > 1 and hit.casefold() not in STOPWORDS))
        if rest:
            segments.append((rest, False))
    return tuple(segments)
