"""The sentence of a passage that answers a query best, and the snippet around it.

A result's snippet is cut around the sentence that holds the most of the query's words and,
among those, is nearest in meaning to what was typed (by meaning alone when the passage was
found by meaning alone), and that sentence is marked. Sentence vectors are
made the first time a passage is shown and kept, least recently used out first, so a page of
results then costs one small matrix product.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from indexer.embedders.base import Embedder

Segments = tuple[tuple[str, bool], ...]
# A sentence ends at . ! ? or … followed by a space and a capital, digit or quote (so
# "86.4%" and "e.g. a" do not end one), or at a line break.
BOUNDARY_RE = re.compile(r"(?<=[.!?…])[ \t]+(?=[A-Z0-9\"“‘'(])|\n+")
MIN_WORDS = 4  # shorter pieces ("Step 1.") are not worth marking or embedding alone
MAX_SENTENCES = 60  # per passage: passages are a few hundred words
SNIPPET_WORDS = 45  # about what the keyword snippet shows (32 tokens plus context)
CACHE_SENTENCES = 50_000  # ~75 MB of float32 vectors at 384 dimensions, at most


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


class SentenceVectors:
    """Vectors of passages' sentences, made on first use, bounded by CACHE_SENTENCES."""

    def __init__(self, embedder: Embedder, capacity: int = CACHE_SENTENCES) -> None:
        self.embedder = embedder
        self.capacity = capacity
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def of(self, texts: Sequence[str]) -> list[np.ndarray]:
        """For each text, a matrix with one row per sentence (sentence_spans order)."""
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
            for text in found:
                self._cache.move_to_end(text)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            pieces = [[t[a:b] for a, b in sentence_spans(t)] for t in missing]
            flat = [p for group in pieces for p in group]
            vectors = self.embedder.encode_documents(flat) if flat else \
                np.zeros((0, self.embedder.dim), dtype=np.float32)
            at = 0
            with self._lock:
                for text, group in zip(missing, pieces):
                    found[text] = vectors[at:at + len(group)]
                    at += len(group)
                    self._cache[text] = found[text]
                    self._held += len(group)
                while self._held > self.capacity and self._cache:
                    _, dropped = self._cache.popitem(last=False)
                    self._held -= len(dropped)
        return [found[t] for t in texts]


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
