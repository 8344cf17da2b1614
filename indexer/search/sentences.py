"""The sentence of a passage that answers a query best, and the snippet around it.

A result's snippet is cut around the sentence that holds the most of the query's words and,
among those, is nearest in meaning to what was typed (by meaning alone when the passage was
found by meaning alone), and that sentence is marked. Every sentence is embedded when the
index is built (indexer.pipeline), so this costs one small matrix product per page; the
hybrid search also counts each write-up's nearest sentence as evidence for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

Segments = tuple[tuple[str, bool], ...]
# A sentence ends at . ! ? or … followed by a space and a capital, digit or quote (so
# "86.4%" and "e.g. a" do not end one), or at a line break.
BOUNDARY_RE = re.compile(r"(?<=[.!?…])[ \t]+(?=[A-Z0-9\"“‘'(])|\n+")
MIN_WORDS = 4  # shorter pieces ("Step 1.") are not worth marking or embedding alone
MAX_SENTENCES = 60  # per passage: passages are a few hundred words
SNIPPET_WORDS = 45  # about what the keyword snippet shows (32 tokens plus context)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a text (trailing spaces left out); pieces shorter
    than MIN_WORDS join the sentence before them."""
    spans: list[tuple[int, int]] = []
    cuts = [0, *(p for m in BOUNDARY_RE.finditer(text) for p in (m.start(), m.end())),
            len(text)]
    for begin, finish in zip(cuts[::2], cuts[1::2]):
        piece = text[begin:finish]
        start = begin + len(piece) - len(piece.lstrip())
        end = begin + len(piece.rstrip())
        if end <= start:
            continue
        if spans and len(text[start:end].split()) < MIN_WORDS and \
                text[spans[-1][1]:start].strip() == "":
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans[:MAX_SENTENCES]


@dataclass(frozen=True)
class SentenceIndex:
    """The stored sentence vectors of one index generation, grouped by document slot."""

    vectors: np.ndarray  # one row per sentence: by slot, then chunk, then sentence order
    first: np.ndarray  # per slot, its first row (slots without sentences: first == end)
    end: np.ndarray  # per slot, one past its last row
    rows: dict[int, tuple[int, int]]  # chunk id -> its rows [start, end)

    @classmethod
    def build(cls, vectors: np.ndarray, owners: np.ndarray, chunk_slot: np.ndarray,
              size: int) -> SentenceIndex:
        """From rows in chunk order, the chunk of each row and chunk_slot (chunk -> slot);
        `size` slots in all."""
        known = (owners >= 0) & (owners < len(chunk_slot))
        known[known] = chunk_slot[owners[known]] >= 0
        keep = np.flatnonzero(known)
        # By slot, chunk and sentence order kept within one; one copy of the vectors.
        keep = keep[np.argsort(chunk_slot[owners[keep]], kind="stable")]
        vectors, owners = vectors[keep], owners[keep]
        slot = chunk_slot[owners]
        first = np.searchsorted(slot, np.arange(size), side="left")
        end = np.searchsorted(slot, np.arange(size), side="right")
        chunks, at, counts = np.unique(owners, return_index=True, return_counts=True)
        rows = {int(c): (int(a), int(a + n)) for c, a, n in zip(chunks, at, counts)}
        return cls(vectors, first, end, rows)

    def best(self, query: np.ndarray, among: np.ndarray) -> np.ndarray:
        """Per slot, the similarity of its sentence nearest to the query, for the slots in
        the mask `among` (only their rows are read); -inf elsewhere and for slots without
        sentences."""
        out = np.full(len(self.first), -np.inf, dtype=np.float32)
        slots = np.flatnonzero(among & (self.end > self.first))
        if not len(slots):
            return out
        counts = self.end[slots] - self.first[slots]
        offsets = np.cumsum(counts) - counts
        rows = np.repeat(self.first[slots] - offsets, counts) + np.arange(int(counts.sum()))
        out[slots] = np.maximum.reduceat(self.vectors[rows] @ query, offsets)
        return out

    def of(self, chunk_id: int) -> np.ndarray:
        """The vectors of one chunk's sentences (sentence_spans order; none if unknown)."""
        start, end = self.rows.get(chunk_id, (0, 0))
        return self.vectors[start:end]


def best_span(text: str, segments: Segments, vectors: np.ndarray, query: np.ndarray
              ) -> tuple[int, int] | None:
    """The span of the sentence that answers the query best: the most different query words
    (segments: the text with the query's words marked), then the nearest in meaning. With
    no word of the query in the passage, meaning alone decides."""
    spans = sentence_spans(text)
    if not spans or len(vectors) != len(spans):
        return None
    hits, offset = [], 0
    for piece, hit in segments:
        if hit:
            hits.append((offset, piece.casefold()))
        offset += len(piece)
    words = np.asarray([len({w for at, w in hits if start <= at < end})
                        for start, end in spans], dtype=np.float32)
    # Similarities of normalised vectors lie in [-1, 1]: halved, they only break ties.
    value = words + (vectors @ query) / 2
    return spans[int(np.argmax(value))]


def window(text: str, segments: Segments, sentence: tuple[int, int]
           ) -> tuple[Segments, tuple[int, int]]:
    """The snippet around a sentence: from its start, about SNIPPET_WORDS words (a long
    sentence is cut), with the query's marks kept and "…" where the text goes on; and the
    sentence's offsets in the snippet."""
    start, end = sentence
    limit = _after_words(text, start, SNIPPET_WORDS)
    if end >= limit:  # a long sentence is cut
        stop = limit
    else:  # whole sentences up to about SNIPPET_WORDS words
        stop = min(_sentence_end(text, limit), _after_words(text, start, SNIPPET_WORDS + 20))
    out: list[tuple[str, bool]] = [("… ", False)] if start > 0 else []
    lead = sum(len(t) for t, _ in out)
    offset = 0
    for piece, hit in segments:
        a, b = max(start, offset), min(stop, offset + len(piece))
        if a < b:
            out.append((piece[a - offset:b - offset], hit))
        offset += len(piece)
    if stop < len(text.rstrip()):
        out.append((" …", False))
    return tuple(out), (lead, lead + min(end, stop) - start)


def _after_words(text: str, start: int, words: int) -> int:
    """The offset just after the `words`-th word from `start` (or the end of the text)."""
    for n, match in enumerate(re.finditer(r"\S+", text[start:]), start=1):
        if n == words:
            return start + match.end()
    return len(text)


def _sentence_end(text: str, at: int) -> int:
    """The end of the sentence holding offset `at` (the text's end if it never ends)."""
    match = re.compile(r"[.!?…]").search(text, at)
    return match.end() if match else len(text)
