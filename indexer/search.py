"""Hybrid search: keyword (FTS5 BM25) and semantic (FAISS) candidates, fused per write-up."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer import generations as gens
from indexer import keyword
from indexer.embedding import Embedder
from indexer.fusion import rank, weighted_fusion
from indexer.reader import IndexReader, open_reader
from indexer.records import FILTER_FIELDS
from indexer.store import StoredDoc, load_chunks
from kb.errors import BadInputError, NotFoundError

Segments = tuple[tuple[str, bool], ...]
SECTION_KEYWORD_WEIGHT = 0.5


@dataclass(frozen=True)
class SearchParams:
    """Tunable retrieval settings (the evaluation command sweeps these)."""

    keyword_weight: float = 0.15
    min_similarity: float = 0.3
    # A write-up "matches" when its keyword score is at least keyword_ratio of the best one,
    # or its similarity is within dense_margin of the best (and above min_similarity).
    keyword_ratio: float = 0.3
    dense_margin: float = 0.12
    keyword_pool: int = 1000
    dense_pool: int = 1000
    norm_depth: int = 0  # 0: min-max over all candidates; N: over the top N of each side
    # Pseudo-relevance feedback: move the query vector towards the best passages of the
    # top prf_docs fused results, then search by meaning again (0 = off).
    prf_docs: int = 5
    prf_weight: float = 1.0
    # Adaptive fusion: scale the keyword weight by how far the two sides agree on their top
    # `agreement_depth` write-ups (0 = fixed weight).
    agreement_depth: int = 20
    mode: str = "hybrid"  # hybrid | keyword | dense


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    page: int = 1
    page_size: int = 10

    def cache_key(self) -> str:
        return json.dumps([self.text, sorted(self.filters.items()), self.page, self.page_size])


@dataclass(frozen=True)
class Hit:
    doc: StoredDoc
    score: float
    section: str
    anchor: str
    snippet: Segments
    keyword_score: float | None = None
    similarity: float | None = None


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    mode: str
    notices: tuple[str, ...] = ()
    generation: str = ""
    took_ms: float = 0.0
    # The best similarity of the query itself (before feedback) to any passage: how well the
    # library answers it at all, used to spot knowledge gaps.
    confidence: float | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.page_size))


@dataclass
class _Candidates:
    """Per-document evidence from one retrieval pass."""

    keyword: dict[int, float] = field(default_factory=dict)
    dense: dict[int, float] = field(default_factory=dict)
    best_chunk: dict[int, int] = field(default_factory=dict)
    keyword_chunks: set[int] = field(default_factory=set)

    def matched(self, keyword_cut: float, dense_cut: float) -> set[int]:
        return ({d for d, s in self.keyword.items() if s >= keyword_cut} |
                {d for d, s in self.dense.items() if s >= dense_cut})


class SearchEngine:
    """Answers queries against the current index generation; swaps generations between calls."""

    def __init__(self, index_dir: Path, embedder: Embedder, params: SearchParams | None = None,
                 max_query_chars: int = 300, reload_seconds: float = 1.0) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self.params = params or SearchParams()
        self.max_query_chars = max_query_chars
        self.reload_seconds = reload_seconds
        self._reader: IndexReader | None = None
        self._stamp = ""
        self._checked = 0.0
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], SearchResults] = OrderedDict()
        self._related: dict[tuple[str, str], list[tuple[StoredDoc, float]]] = {}

    # -- generation handling -------------------------------------------------------------
    def reader(self) -> IndexReader:
        """The loaded generation, reloaded when CURRENT has changed (checked at most 1/s)."""
        now = time.monotonic()
        reader = self._reader
        if reader is not None and now - self._checked < self.reload_seconds:
            return reader
        with self._lock:
            self._checked = now
            stamp = gens.pointer_stamp(self.index_dir)
            if self._reader is None or stamp != self._stamp:
                self._reader = open_reader(self.index_dir, self.embedder.name)
                self._stamp = stamp
                self._cache.clear()
                self._related.clear()
            return self._reader

    def refresh(self) -> None:
        """Look for a new generation on the next call (after this process published one)."""
        self._checked = 0.0

    @property
    def generation(self) -> str:
        """The generation currently loaded ('' before the first query)."""
        return self._reader.generation if self._reader is not None else ""

    def health(self) -> dict[str, Any]:
        reader = self.reader()
        return {
            "generation": reader.generation,
            "documents": len(reader.docs),
            "chunks": len(reader.chunk_doc),
            "semantic": "ok" if reader.vectors is not None else "degraded",
            "semantic_problem": reader.semantic_problem,
            "model": self.embedder.name,
            "built_at": reader.manifest.get("built_at", ""),
        }

    # -- documents -------------------------------------------------------------------------
    def document(self, slug: str) -> StoredDoc:
        doc = self.reader().by_slug.get(slug)
        if doc is None:
            raise NotFoundError(f"no published write-up called {slug!r}")
        return doc

    def documents(self, filters: dict[str, tuple[str, ...]] | None = None) -> list[StoredDoc]:
        """Documents passing the filters, newest first."""
        reader = self.reader()
        allowed = reader.docs_matching(self._check_filters(filters or {}))
        docs = [d for d in reader.docs.values() if allowed is None or d.id in allowed]
        return sorted(docs, key=lambda d: (d.date, d.title), reverse=True)

    def tag_counts(self, field_name: str) -> dict[str, int]:
        reader = self.reader()
        return {value: len(ids) for (f, value), ids in reader.postings.items() if f == field_name}

    # -- search ----------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResults:
        started = time.perf_counter()
        reader = self.reader()
        filters = self._check_filters(query.filters)
        if query.page < 1 or query.page_size < 1:
            raise BadInputError("page and page_size must be 1 or more")
        key = (reader.generation, query.cache_key())
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        notices: list[str] = []
        text = " ".join(query.text.split())
        if len(text) > self.max_query_chars:
            text = text[: self.max_query_chars]
            notices.append(f"Your search was long, so only its first {self.max_query_chars} "
                           "characters were used.")
        query = SearchQuery(text, filters, query.page, query.page_size)
        if not text:
            results = self._browse(reader, query, notices)
        else:
            results = self._search(reader, query, notices)
        results = SearchResults(results.query, results.total, results.hits, results.facets,
                                results.mode, results.notices, reader.generation,
                                (time.perf_counter() - started) * 1000, results.confidence)
        with self._lock:
            self._cache[key] = results
            while len(self._cache) > 512:
                self._cache.popitem(last=False)
        return results

    def _check_filters(self, filters: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name in filters:
            if name not in FILTER_FIELDS:
                raise BadInputError(f"unknown filter {name!r}; filters are "
                                    f"{', '.join(FILTER_FIELDS)}")
        return {k: tuple(v) for k, v in filters.items() if v}

    def _browse(self, reader: IndexReader, query: SearchQuery, notices: list[str]
                ) -> SearchResults:
        allowed = reader.docs_matching(query.filters)
        docs = [d for d in reader.docs.values() if allowed is None or d.id in allowed]
        docs.sort(key=lambda d: (d.date, d.title), reverse=True)
        start = (query.page - 1) * query.page_size
        hits = [Hit(d, 0.0, "", "", ((d.summary, False),))
                for d in docs[start:start + query.page_size]]
        facets = self._facets(reader, set(reader.docs), query.filters)
        return SearchResults(query, len(docs), hits, facets, "browse", tuple(notices))

    def _search(self, reader: IndexReader, query: SearchQuery, notices: list[str]
                ) -> SearchResults:
        mode = self.params.mode
        if reader.vectors is None and mode != "keyword":
            mode = "keyword"
            notices.append("Search by meaning is unavailable right now; showing keyword matches.")
        terms = keyword.query_terms(query.text) if mode != "dense" else []
        qvec = self.embedder.encode_query(query.text) if mode != "keyword" else None
        unfiltered = self._retrieve(reader, terms, qvec, None)
        confidence = max(unfiltered.dense.values(), default=None)
        first_pass = unfiltered
        if qvec is not None and self.params.prf_docs and reader.vectors is not None:
            qvec = self._feedback_vector(reader, unfiltered, qvec, mode)
            unfiltered = self._retrieve(reader, terms, qvec, None)
        allowed = reader.docs_matching(query.filters)
        filtered = unfiltered if allowed is None else self._retrieve(reader, terms, qvec, allowed)
        # Feedback re-ranks write-ups; the section shown is still the one that best matches
        # what was typed.
        filtered.best_chunk.update(first_pass.best_chunk)
        # Cut-offs come from the unfiltered pass, so totals and facet counts agree.
        keyword_cut = self.params.keyword_ratio * max(unfiltered.keyword.values(), default=0.0)
        dense_cut = max(self.params.min_similarity,
                        max(unfiltered.dense.values(), default=0.0) - self.params.dense_margin)
        matched = filtered.matched(keyword_cut, dense_cut)
        scores = self._fuse(filtered, mode)
        ordered = [d for d in rank(scores) if d in matched]
        start = (query.page - 1) * query.page_size
        page_ids = ordered[start:start + query.page_size]
        chunk_text = load_chunks(reader.conn(), [filtered.best_chunk[d] for d in page_ids])
        hits = []
        for doc_id in page_ids:
            chunk_id = filtered.best_chunk[doc_id]
            heading, anchor, text = chunk_text.get(chunk_id, ("", "", ""))
            hits.append(Hit(reader.docs[doc_id], round(scores[doc_id], 4), heading, anchor,
                            self._snippet(reader, terms, chunk_id, text,
                                          chunk_id in filtered.keyword_chunks),
                            filtered.keyword.get(doc_id), filtered.dense.get(doc_id)))
        facets = self._facets(reader, unfiltered.matched(keyword_cut, dense_cut), query.filters)
        return SearchResults(query, len(ordered), hits, facets, mode, tuple(notices),
                             confidence=confidence)

    def _retrieve(self, reader: IndexReader, terms: list[str], qvec: np.ndarray | None,
                  allowed: set[int] | None) -> _Candidates:
        out = _Candidates()
        chunk_scores: dict[int, dict[str, float]] = {}
        if terms:
            doc_filter = json.dumps(sorted(allowed)) if allowed is not None else None
            for chunk_id, score in keyword.keyword_search(reader.conn(), terms,
                                                          self.params.keyword_pool, doc_filter):
                doc_id = reader.chunk_doc.get(chunk_id)
                if doc_id is None:
                    continue
                out.keyword_chunks.add(chunk_id)
                chunk_scores.setdefault(chunk_id, {})["k"] = score
                if score > out.keyword.get(doc_id, -1e9):
                    out.keyword[doc_id] = score
        if qvec is not None and reader.vectors is not None:
            allowed_chunks = reader.chunk_ids_of(allowed) if allowed is not None else None
            ids, sims = reader.vectors.search(qvec, self.params.dense_pool, allowed_chunks)
            for chunk_id, sim in zip(ids.tolist(), sims.tolist()):
                doc_id = reader.chunk_doc.get(chunk_id)
                if doc_id is None:
                    continue
                chunk_scores.setdefault(chunk_id, {})["d"] = sim
                if sim > out.dense.get(doc_id, -1e9):
                    out.dense[doc_id] = sim
        # The section shown for a write-up is its chunk with the best evidence, keyword and
        # meaning weighed equally: readers expect to see the words they typed where possible.
        kw_max = max(out.keyword.values(), default=1.0) or 1.0
        best: dict[int, float] = {}
        for chunk_id, parts in chunk_scores.items():
            doc_id = reader.chunk_doc[chunk_id]
            value = (parts.get("k", 0.0) / kw_max) * SECTION_KEYWORD_WEIGHT + \
                parts.get("d", 0.0) * (1 - SECTION_KEYWORD_WEIGHT)
            if value > best.get(doc_id, -1e9):
                best[doc_id] = value
                out.best_chunk[doc_id] = chunk_id
        return out

    def _feedback_vector(self, reader: IndexReader, cands: _Candidates, qvec: np.ndarray,
                         mode: str) -> np.ndarray:
        top = rank(self._fuse(cands, mode))[: self.params.prf_docs]
        if not top or reader.vectors is None:
            return qvec
        centre = reader.vectors.vectors([cands.best_chunk[d] for d in top]).mean(axis=0)
        moved = qvec + self.params.prf_weight * centre
        return (moved / (np.linalg.norm(moved) or 1.0)).astype(np.float32)

    def _fuse(self, cands: _Candidates, mode: str) -> dict[int, float]:
        if mode == "keyword":
            return weighted_fusion(cands.keyword, {}, 1.0)
        if mode == "dense":
            return weighted_fusion({}, cands.dense, 0.0)
        weight = self.params.keyword_weight
        depth = self.params.agreement_depth
        if depth and cands.keyword and cands.dense:
            top_kw = set(rank(cands.keyword)[:depth])
            top_dense = set(rank(cands.dense)[:depth])
            weight = min(1.0, 2 * weight * len(top_kw & top_dense) / depth)
        return weighted_fusion(cands.keyword, cands.dense, weight, self.params.norm_depth)

    def _snippet(self, reader: IndexReader, terms: list[str], chunk_id: int, text: str,
                 keyword_hit: bool) -> Segments:
        if keyword_hit:
            marked = keyword.highlight(reader.conn(), terms, chunk_id)
            if marked:
                return keyword.split_marked(marked)
        words = text.split()
        short = " ".join(words[:40]) + (" …" if len(words) > 40 else "")
        return ((short, False),)

    def _facets(self, reader: IndexReader, matched: set[int],
                filters: dict[str, tuple[str, ...]]) -> dict[str, list[FacetValue]]:
        """Counts per tag value: within a field, counted as if that field were not filtered."""
        facets: dict[str, list[FacetValue]] = {}
        for field_name in FILTER_FIELDS:
            others = {k: v for k, v in filters.items() if k != field_name}
            allowed = reader.docs_matching(others)
            base = matched if allowed is None else matched & allowed
            counts: dict[str, int] = {}
            for doc_id in base:
                for value in reader.docs[doc_id].tags.get(field_name, ()):
                    counts[value] = counts.get(value, 0) + 1
            chosen = set(filters.get(field_name, ()))
            for value in chosen:
                counts.setdefault(value, 0)
            facets[field_name] = [FacetValue(v, c, v in chosen)
                                  for v, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        return facets

    # -- related ---------------------------------------------------------------------------
    def related(self, slug: str, k: int = 5) -> list[tuple[StoredDoc, float]]:
        """The write-ups closest in meaning to this one (excluding itself)."""
        reader = self.reader()
        doc = self.document(slug)
        key = (reader.generation, slug)
        if key in self._related:
            return self._related[key][:k]
        if reader.vectors is None:
            return []
        vecs = reader.vectors.vectors(reader.doc_chunks[doc.id].tolist())
        centre = vecs.mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        ids, sims = reader.vectors.search(centre, min(reader.vectors.size, 40 + 10 * k))
        best: dict[int, float] = {}
        for chunk_id, sim in zip(ids.tolist(), sims.tolist()):
            doc_id = reader.chunk_doc.get(chunk_id)
            if doc_id is not None and doc_id != doc.id and sim > best.get(doc_id, -1.0):
                best[doc_id] = sim
        result = [(reader.docs[d], round(best[d], 4)) for d in rank(best)][:max(k, 10)]
        self._related[key] = result
        return result[:k]
