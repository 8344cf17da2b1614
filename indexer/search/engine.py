"""Hybrid search: keyword (FTS5 BM25) and semantic (FAISS) candidates, fused per write-up."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from indexer import generations as gens
from indexer import keyword
from indexer.embedders.base import Embedder
from indexer.reader import IndexReader, open_reader
from indexer.records import FILTER_FIELDS
from indexer.search.expansion import Expanded, expanded_text
from indexer.search.fusion import rank, ranked_slots, weighted_fusion
from indexer.search.runtime import tune_process
from indexer.search.sentences import best_span, window
from indexer.store import StoredDoc, load_chunks
from kb.errors import BadInputError, NotFoundError

Segments = tuple[tuple[str, bool], ...]
SECTION_KEYWORD_WEIGHT = 0.5
_NO_HITS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
SNIPPETS_AHEAD = 20  # keyword passages whose snippets are made while the query is embedded
OPENING_WORDS = 40


def _opening(text: str) -> Segments:
    """The first words of a passage, for a result found by meaning alone."""
    words = text.split()
    short = " ".join(words[:OPENING_WORDS]) + (" …" if len(words) > OPENING_WORDS else "")
    return ((short, False),)


@dataclass(frozen=True)
class SearchParams:
    """Tunable retrieval settings (the evaluation command sweeps these)."""

    keyword_weight: float = 0.2
    # In hybrid mode a write-up's meaning is its best passage's similarity blended with its
    # nearest sentence's (both scaled 0..1), this much the sentence: a passage that holds
    # one sentence answering the question is not diluted by the rest. Equal parts, not tuned
    # (0.35 did as well on the teacher set). The dense and keyword modes stay single-signal
    # baselines for `kb eval`.
    sentence_weight: float = 0.5
    min_similarity: float = 0.3
    # A write-up "matches" when its keyword score is at least keyword_ratio of the best one,
    # or its similarity is within dense_margin of the best (and above min_similarity).
    keyword_ratio: float = 0.3
    dense_margin: float = 0.12
    keyword_pool: int = 300
    dense_pool: int = 300
    # Pseudo-relevance feedback: move the query vector towards the best passages of its
    # prf_docs nearest write-ups, then search by meaning again (0 = off) ...
    prf_docs: int = 5
    prf_weight: float = 1.0
    # ... only when what was typed finds something by meaning at all: feedback from passages
    # that do not match would only add noise.
    prf_min_similarity: float = 0.3
    # Added to the fused score of a write-up tagged with every taxonomy term the query named
    # (indexer.search.expansion); a share of it for some of them.
    tag_weight: float = 0.2
    # Results whose fused score is at least this share of the best are "strong"; the rest
    # are shown folded as less closely related. On the teacher query set 0.5 keeps 93.5% of
    # the wanted write-ups (and the first one for 98.4% of queries) among a median of 6.5
    # strong results, out of 21 matches on average (0.6: 86%; 0.4: 95% among 9).
    strong_ratio: float = 0.5
    mode: str = "hybrid"  # hybrid | keyword | dense


SORTS = ("relevance", "newest", "evidence")
EVIDENCE_ORDER = {"established": 3, "promising": 2, "emerging": 1}


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    page: int = 1
    page_size: int = 10
    sort: str = "relevance"  # relevance | newest | evidence
    exact: bool = False  # True: search the words as typed, without spelling correction

    def cache_key(self) -> str:
        return json.dumps([self.text, sorted(self.filters.items()), self.page, self.page_size,
                           self.sort, self.exact])


@dataclass(frozen=True)
class Hit:
    doc: StoredDoc
    score: float
    section: str
    anchor: str
    snippet: Segments
    keyword_score: float | None = None
    similarity: float | None = None
    group: str = "strong"  # strong | related (less closely related, shown folded)
    matched_words: tuple[str, ...] = ()  # query words found in the write-up, as it spells them
    shared_tags: tuple[tuple[str, str], ...] = ()  # (field, term) the query named
    recommended: str | None = None  # a curator's note when this write-up is a best bet
    # The sentence that answers the query best (by meaning, with a bonus for the query's
    # words; by words alone in keyword mode), as character offsets into the snippet's text
    # ((0, 0): none).
    best_sentence: tuple[int, int] = (0, 0)


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
    strong_total: int = 0  # how many of `total` are strong matches (the rest: related)
    corrected_from: str = ""  # the words as typed, when spelling correction changed them
    searched: str = ""  # the words actually searched (after correction)
    expanded: tuple[tuple[str, str, str], ...] = ()  # (field, term, label) the query named
    # Best bets for this query: (kind, slug, note); write-ups among them lead the first page.
    best_bets: tuple[tuple[str, str, str], ...] = ()

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.page_size))


@dataclass
class _Side:
    """One side's evidence per document slot: its best score (-inf: not a candidate) and the
    chunk that scored it (-1: none)."""

    score: np.ndarray
    chunk: np.ndarray

    @classmethod
    def empty(cls, size: int) -> _Side:
        return cls(np.full(size, -np.inf, dtype=np.float32), np.full(size, -1, dtype=np.int64))

    @classmethod
    def from_ranked(cls, reader: IndexReader, chunk_ids: np.ndarray, scores: np.ndarray
                    ) -> _Side:
        """From chunk hits sorted best first: each document keeps its first (best) chunk."""
        side = cls.empty(len(reader.slot_doc))
        inside = (chunk_ids >= 0) & (chunk_ids < len(reader.chunk_slot))  # FAISS pads with -1
        chunk_ids, scores = chunk_ids[inside], scores[inside]
        slots = reader.chunk_slot[chunk_ids]
        known = slots >= 0
        slots, chunk_ids, scores = slots[known], chunk_ids[known], scores[known]
        unique, first = np.unique(slots, return_index=True)
        side.score[unique] = scores[first]
        side.chunk[unique] = chunk_ids[first]
        return side

    def best(self) -> float | None:
        top = float(self.score.max()) if len(self.score) else -math.inf
        return None if top == -math.inf else top


@dataclass
class _Evidence:
    keyword: _Side
    dense: _Side
    keyword_chunks: tuple[np.ndarray, np.ndarray]  # every keyword hit: chunk ids, scores
    marked: dict[int, str] = field(default_factory=dict)  # snippets made ahead, by chunk id

    def matched(self, keyword_cut: float, dense_cut: float) -> np.ndarray:
        return (self.keyword.score >= keyword_cut) | (self.dense.score >= dense_cut)


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
        self._worker_name = f"kb-keyword-{id(self):x}"
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix=self._worker_name)
        tune_process()  # one BLAS thread, a fixed mmap threshold (indexer.search.runtime)

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
                self._reader = open_reader(self.index_dir, self.embedder.name, self.embedder.dim)
                self._stamp = stamp
                self._cache.clear()
                self._related.clear()
            return self._reader

    def clear_cache(self) -> None:
        """Forget cached results and query vectors (benchmarks measure uncached searches)."""
        with self._lock:
            self._cache.clear()
        self.embedder.clear_cache()

    def close(self) -> None:
        """Stop the keyword workers (a server calls this when it shuts down)."""
        self._workers.shutdown(wait=True)

    def worker_threads(self) -> list[threading.Thread]:
        """This engine's keyword worker threads that are still running."""
        return [t for t in threading.enumerate() if t.name.startswith(self._worker_name + "_")]

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
            # Degraded: keyword-only search, or an older generation served in place of a
            # damaged one (the reason says which).
            "semantic": "ok" if reader.vectors is not None and not reader.semantic_problem
            else "degraded",
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
        if query.sort not in SORTS:
            raise BadInputError(f"sort must be one of {', '.join(SORTS)}, got {query.sort!r}")
        query = SearchQuery(text, filters, query.page, query.page_size, query.sort, query.exact)
        if not text:
            results = self._browse(reader, query, notices)
        else:
            correction = None if query.exact else reader.speller().correct(text)
            searched = correction.text if correction else text
            results = self._search(reader, query, searched, notices)
            if correction:
                results = replace(results, corrected_from=text)
        results = replace(results, generation=reader.generation,
                          took_ms=(time.perf_counter() - started) * 1000)
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
        if query.sort == "evidence":
            docs.sort(key=_evidence_rank, reverse=True)
        start = (query.page - 1) * query.page_size
        hits = [Hit(d, 0.0, "", "", ((d.summary, False),))
                for d in docs[start:start + query.page_size]]
        facets = self._facets(reader, np.ones(len(reader.slot_doc), dtype=bool), query.filters)
        return SearchResults(query, len(docs), hits, facets, "browse", tuple(notices),
                             strong_total=len(docs))

    def _search(self, reader: IndexReader, query: SearchQuery, text: str, notices: list[str]
                ) -> SearchResults:
        mode = self.params.mode
        if reader.vectors is None and mode != "keyword":
            mode = "keyword"
            notices.append("Search by meaning is unavailable right now; showing keyword matches.")
        expansions = reader.expander.expand(text)
        if expansions:
            notices.append("Also searched for " + "; ".join(
                f"{e.label} (for “{e.matched}”)" for e in expansions) + ".")
        searched = expanded_text(text, expansions)
        terms = keyword.query_terms(searched) if mode != "dense" else []
        # The keyword search runs on another core while the query is embedded (SQLite and
        # onnxruntime both let go of the GIL while they work); it then marks the snippets of
        # its best passages, which usually make the page.
        keyword_job = self._workers.submit(self._keyword_ahead, reader, terms) if terms else None
        typed = self.embedder.encode_query(searched) if mode != "keyword" else None
        # Both passes by meaning run before waiting for the keyword side, which needs longer.
        dense = self._dense(reader, typed, None)
        confidence = dense.best()
        qvec = typed
        if typed is not None and self.params.prf_docs and confidence is not None and \
                confidence >= self.params.prf_min_similarity:
            qvec = self._feedback_vector(reader, dense, typed)
            dense = self._dense(reader, qvec, None)
        keyword_hits, marked = keyword_job.result() if keyword_job else (_NO_HITS, {})
        unfiltered = _Evidence(_Side.from_ranked(reader, *keyword_hits), dense, keyword_hits,
                               marked)
        allowed = reader.docs_matching(query.filters)
        filtered = unfiltered if allowed is None else self._narrow(reader, unfiltered, terms,
                                                                    qvec, allowed)
        # Cut-offs come from the unfiltered pass, so totals and facet counts agree.
        keyword_cut = self.params.keyword_ratio * (unfiltered.keyword.best() or 0.0)
        dense_cut = max(self.params.min_similarity,
                        (unfiltered.dense.best() or 0.0) - self.params.dense_margin)
        scores = self._fuse(reader, filtered, mode, expansions, typed)
        ordered = ranked_slots(scores, filtered.matched(keyword_cut, dense_cut))
        top = float(scores[ordered[0]]) if len(ordered) else 0.0
        strong = int((scores[ordered] >= self.params.strong_ratio * top).sum())
        ordered = self._sorted(reader, ordered, strong, query.sort)
        bets = reader.best_bets(text) or reader.best_bets(query.text)
        pinned = self._pinned(reader, bets, query.filters)
        if len(pinned):  # curators' answers first, wherever (or whether) they ranked
            ordered = np.concatenate([pinned, ordered[~np.isin(ordered, pinned)]])
            strong = len(pinned) + int((scores[ordered[len(pinned):]] >=
                                        self.params.strong_ratio * top).sum())
        start = (query.page - 1) * query.page_size
        page = ordered[start:start + query.page_size].tolist()
        groups = {slot: "strong" if n < strong else "related"
                  for n, slot in enumerate(ordered.tolist()) if start <= n < start + len(page)}
        named = [(e.field, e.term) for e in expansions]
        hits = self._hits(reader, page, scores, filtered, terms, typed, groups, named)
        notes = {b["slug"]: b.get("note", "") for b in bets if b.get("kind") == "practice"}
        hits = [replace(h, recommended=notes[h.doc.slug]) if h.doc.slug in notes else h
                for h in hits]
        facets = self._facets(reader, unfiltered.matched(keyword_cut, dense_cut), query.filters)
        return SearchResults(query, len(ordered), hits, facets, mode, tuple(notices),
                             confidence=confidence, strong_total=strong, searched=text,
                             best_bets=tuple((b["kind"], b["slug"], b.get("note", ""))
                                             for b in bets),
                             expanded=tuple((e.field, e.term, e.label) for e in expansions))

    def _pinned(self, reader: IndexReader, bets: list[dict[str, str]],
                filters: dict[str, tuple[str, ...]]) -> np.ndarray:
        """Slots of the write-ups pinned to this query that pass the filters."""
        allowed = reader.docs_matching(filters)
        slots = []
        for bet in bets:
            doc = reader.by_slug.get(bet.get("slug", "")) if bet.get("kind") == "practice" \
                else None
            if doc is not None and (allowed is None or doc.id in allowed):
                slots.append(int(np.searchsorted(reader.slot_doc, doc.id)))
        return np.asarray(list(dict.fromkeys(slots)), dtype=np.int64)

    def _sorted(self, reader: IndexReader, ordered: np.ndarray, strong: int, sort: str
                ) -> np.ndarray:
        """Relevance order, or within each group (strong, then related) newest or strongest
        evidence first, ties kept in relevance order."""
        if sort == "relevance":
            return ordered
        docs = [reader.docs[int(reader.slot_doc[s])] for s in ordered.tolist()]
        key = (lambda d: d.date) if sort == "newest" else _evidence_rank
        out = []
        for part in (range(0, strong), range(strong, len(docs))):
            out += sorted(part, key=lambda i: key(docs[i]), reverse=True)
        return ordered[np.asarray(out, dtype=np.int64)] if out else ordered

    def _keyword(self, reader: IndexReader, terms: list[str], allowed: set[int] | None
                 ) -> tuple[np.ndarray, np.ndarray]:
        if not terms:
            return _NO_HITS
        doc_filter = json.dumps(sorted(allowed)) if allowed is not None else None
        return keyword.keyword_search(reader.conn(), terms, self.params.keyword_pool, doc_filter)

    def _keyword_ahead(self, reader: IndexReader, terms: list[str]
                       ) -> tuple[tuple[np.ndarray, np.ndarray], dict[int, str]]:
        hits = self._keyword(reader, terms, None)
        ahead = hits[0][:SNIPPETS_AHEAD].tolist()
        return hits, keyword.highlight(reader.conn(), terms, ahead)

    def _narrow(self, reader: IndexReader, found: _Evidence, terms: list[str],
                qvec: np.ndarray | None, allowed: set[int]) -> _Evidence:
        """The evidence for the allowed write-ups only. A side whose unfiltered pass was cut
        short by its pool size searches again with the filter inside the search, so the
        filter never comes after the cut; a side that returned everything is just masked."""
        kw_ids, kw_scores = found.keyword_chunks
        if len(kw_ids) >= self.params.keyword_pool:
            hits = self._keyword(reader, terms, allowed)
            return _Evidence(_Side.from_ranked(reader, *hits), self._dense(reader, qvec, allowed),
                             hits)
        dense = found.dense
        if qvec is not None and reader.vectors is not None and \
                reader.vectors.size > self.params.dense_pool:
            dense = self._dense(reader, qvec, allowed)
        mask = reader.slots_of(allowed)
        assert mask is not None
        slots = reader.chunk_slot[kw_ids]
        keep = (slots >= 0) & mask[slots]
        return _Evidence(_Side(np.where(mask, found.keyword.score, -np.inf),
                               np.where(mask, found.keyword.chunk, -1)),
                         _Side(np.where(mask, dense.score, -np.inf),
                               np.where(mask, dense.chunk, -1)),
                         (kw_ids[keep], kw_scores[keep]), found.marked)

    def _dense(self, reader: IndexReader, qvec: np.ndarray | None, allowed: set[int] | None
               ) -> _Side:
        if qvec is None or reader.vectors is None:
            return _Side.empty(len(reader.slot_doc))
        allowed_chunks = reader.chunk_ids_of(allowed) if allowed is not None else None
        ids, sims = reader.vectors.search(qvec, self.params.dense_pool, allowed_chunks)
        return _Side.from_ranked(reader, ids, sims)

    def _feedback_vector(self, reader: IndexReader, dense: _Side, qvec: np.ndarray
                         ) -> np.ndarray:
        """The query moved towards the passages nearest to it in meaning (pseudo-relevance
        feedback): close write-ups bring the words they use for the same idea. Keyword hits
        are left out: on questions, their noise pulled the query off course in our tests."""
        top = ranked_slots(dense.score)[: self.params.prf_docs]
        if not len(top) or reader.vectors is None:
            return qvec
        centre = reader.vectors.vectors(dense.chunk[top].tolist()).mean(axis=0)
        moved = qvec + self.params.prf_weight * centre
        return (moved / (np.linalg.norm(moved) or 1.0)).astype(np.float32)

    def _fuse(self, reader: IndexReader, found: _Evidence, mode: str,
              expansions: list[Expanded], typed: np.ndarray | None) -> np.ndarray:
        weight = {"keyword": 1.0, "dense": 0.0}.get(mode, self.params.keyword_weight)
        sentences = None
        if mode == "hybrid" and typed is not None and reader.sentences is not None:
            found_by_either = np.isfinite(found.keyword.score) | np.isfinite(found.dense.score)
            sentences = reader.sentences.best(typed, found_by_either)
        scores = weighted_fusion(found.keyword.score, found.dense.score, weight, sentences,
                                 self.params.sentence_weight)
        if expansions and self.params.tag_weight:
            # The share of the named terms each write-up is tagged with, as extra evidence:
            # "HPA students" should favour write-ups their authors tagged for that group.
            share = np.zeros(len(scores), dtype=np.float32)
            for named in expansions:
                tagged = reader.slots_of(reader.docs_matching({named.field: (named.term,)}))
                if tagged is not None:
                    share[tagged] += 1.0 / len(expansions)
            scores = np.where(np.isfinite(scores), scores + self.params.tag_weight * share,
                              scores)
        return scores

    def _shown_chunks(self, reader: IndexReader, slots: list[int], found: _Evidence,
                      typed: np.ndarray | None) -> dict[int, int]:
        """For each document, the passage with the best evidence for what was typed: keyword
        and meaning weighed equally, since readers look for their own words."""
        if not slots:
            return {}
        per_doc = [reader.shown_chunks.get(int(reader.slot_doc[slot]),
                                           reader.doc_chunks[int(reader.slot_doc[slot])])
                   for slot in slots]
        owner = np.repeat(np.arange(len(slots)), [len(c) for c in per_doc])
        chunks = np.concatenate(per_doc)
        if len(chunks) == len(slots):  # one passage each: nothing to choose
            return dict(zip(slots, chunks.tolist()))
        value = np.zeros(len(chunks), dtype=np.float32)
        kw_ids, kw_scores = found.keyword_chunks
        if len(kw_ids):  # keyword hits among these passages, scaled by the best hit
            order = np.argsort(kw_ids)
            at = np.minimum(np.searchsorted(kw_ids[order], chunks), len(kw_ids) - 1)
            hit = kw_ids[order][at] == chunks
            value[hit] = kw_scores[order][at[hit]] * \
                (SECTION_KEYWORD_WEIGHT / (float(kw_scores.max()) or 1.0))
        if typed is not None and reader.vectors is not None:
            value += (reader.vectors.vectors(chunks.tolist()) @ typed) * \
                (1 - SECTION_KEYWORD_WEIGHT)
        # Best value within each document (owner groups are contiguous); ties: first passage.
        best = np.lexsort((-value, owner))
        firsts = best[np.r_[0, np.flatnonzero(np.diff(owner[best])) + 1]]
        return dict(zip(slots, chunks[firsts].tolist()))

    def _hits(self, reader: IndexReader, page: list[int], scores: np.ndarray,
              found: _Evidence, terms: list[str], typed: np.ndarray | None,
              groups: dict[int, str], named: list[tuple[str, str]]) -> list[Hit]:
        shown = self._shown_chunks(reader, page, found, typed)
        texts = load_chunks(reader.conn(), list(shown.values()))
        if typed is not None and reader.sentences is not None:
            snippets = self._by_meaning(reader, shown, texts, terms, typed)
        else:
            snippets = self._by_words(reader, shown, texts, found, terms)
        hits = []
        for slot in page:
            chunk_id = shown[slot]
            heading, anchor, text = texts.get(chunk_id, ("", "", ""))
            snippet, best = snippets[chunk_id]
            kw, dn = found.keyword.score[slot], found.dense.score[slot]
            doc = reader.docs[int(reader.slot_doc[slot])]
            words = tuple(dict.fromkeys(t.casefold() for t, hit in snippet if hit))
            shared = tuple((f, v) for f, v in named if v in doc.tags.get(f, ()))
            score = float(scores[slot]) if np.isfinite(scores[slot]) else 0.0
            hits.append(Hit(doc, round(score, 4), heading, anchor, snippet,
                            float(kw) if np.isfinite(kw) else None,
                            float(dn) if np.isfinite(dn) else None,
                            groups.get(slot, "strong"), words, shared, None, best))
        return hits

    def _by_words(self, reader: IndexReader, shown: dict[int, int],
                  texts: dict[int, tuple[str, str, str]], found: _Evidence, terms: list[str]
                  ) -> dict[int, tuple[Segments, tuple[int, int]]]:
        """Snippets where the keyword search put them, and the sentence with the most of the
        query's words (keyword mode, or while search by meaning is unavailable)."""
        keyword_hits = set(found.keyword_chunks[0].tolist())
        missing = [c for c in shown.values() if c in keyword_hits and c not in found.marked]
        marked = {**found.marked, **keyword.highlight(reader.conn(), terms, missing)}
        out = {}
        for chunk_id in shown.values():
            snippet = keyword.split_marked(marked[chunk_id]) if chunk_id in marked else \
                _opening(texts.get(chunk_id, ("", "", ""))[2])
            out[chunk_id] = (snippet, best_sentence(snippet))
        return out

    def _by_meaning(self, reader: IndexReader, shown: dict[int, int],
                    texts: dict[int, tuple[str, str, str]], terms: list[str],
                    typed: np.ndarray) -> dict[int, tuple[Segments, tuple[int, int]]]:
        """Snippets cut around the sentence that answers what was typed best, that sentence
        marked (indexer.search.sentences)."""
        chunk_ids = list(dict.fromkeys(shown.values()))
        marked = keyword.highlight(reader.conn(), terms, chunk_ids, tokens=None)
        bodies = [texts.get(c, ("", "", ""))[2] for c in chunk_ids]
        assert reader.sentences is not None
        out = {}
        for chunk_id, text in zip(chunk_ids, bodies):
            vectors = reader.sentences.of(chunk_id)
            segments = keyword.split_marked(marked[chunk_id]) if chunk_id in marked else \
                ((text, False),)
            if "".join(t for t, _ in segments) != text:  # never mark the wrong place
                segments = ((text, False),)
            span = best_span(text, segments, vectors, typed)
            out[chunk_id] = window(text, segments, span) if span else (_opening(text), (0, 0))
        return out

    def _facets(self, reader: IndexReader, matched: np.ndarray,
                filters: dict[str, tuple[str, ...]]) -> dict[str, list[FacetValue]]:
        """Counts per tag value: within a field, counted as if that field were not filtered."""
        facets: dict[str, list[FacetValue]] = {}
        for field_name in FILTER_FIELDS:
            others = {k: v for k, v in filters.items() if k != field_name}
            allowed = reader.slots_of(reader.docs_matching(others))
            base = matched if allowed is None else matched & allowed
            values, slots, numbers = reader.tag_pairs.get(
                field_name, ([], np.zeros(0, np.int64), np.zeros(0, np.int64)))
            tally = np.bincount(numbers[base[slots]], minlength=len(values))
            counts = {values[n]: int(c) for n, c in enumerate(tally.tolist()) if c}
            chosen = set(filters.get(field_name, ()))
            for value in chosen:
                counts.setdefault(value, 0)
            facets[field_name] = [FacetValue(v, c, v in chosen)
                                  for v, c in sorted(counts.items(),
                                                     key=lambda kv: (-kv[1], kv[0]))]
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


def _evidence_rank(doc: StoredDoc) -> tuple[int, str]:
    """Strength of evidence, then date: the sort key for "strongest evidence first"."""
    strength = doc.tags.get("evidence_strength", ("",))
    return EVIDENCE_ORDER.get(strength[0] if strength else "", 0), doc.date


SENTENCE_RE = re.compile(r"[^.!?…]+[.!?…]*\s*")


def best_sentence(snippet: Segments) -> tuple[int, int]:
    """Offsets of the sentence holding the most marked words (ties: the first), or (0, 0)."""
    spans, offset = [], 0
    for text, hit in snippet:
        if hit:
            spans.append((offset, offset + len(text)))
        offset += len(text)
    if not spans:
        return (0, 0)
    text = "".join(t for t, _ in snippet)
    best, most = (0, 0), 0
    for match in SENTENCE_RE.finditer(text):
        start, end = match.start(), match.start() + len(match.group().rstrip())
        count = sum(1 for a, b in spans if a >= start and b <= end)
        if count > most:
            best, most = (start, end), count
    return best
