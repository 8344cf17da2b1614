"""One loaded index generation: read-only store connections, vectors and in-memory postings."""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer import generations as gens
from indexer import store
from indexer.chunking import PROFILE_HEADING
from indexer.search.expansion import QueryExpander
from indexer.search.sentences import SentenceIndex
from indexer.search.spelling import Speller, count_words
from indexer.store import StoredDoc
from indexer.vectors import VectorIndex
from kb.curation.search_tuning import normalise_query
from kb.errors import IndexUnavailableError

log = logging.getLogger(__name__)
TAXONOMY_WORD_WEIGHT = 1000


@dataclass
class IndexReader:
    """Everything a query needs from one generation, loaded once."""

    gen_dir: Path
    manifest: dict
    docs: dict[int, StoredDoc]
    by_slug: dict[str, StoredDoc]
    chunk_doc: dict[int, int]
    doc_chunks: dict[int, np.ndarray]
    postings: dict[tuple[str, str], frozenset[int]]
    vectors: VectorIndex | None
    semantic_problem: str = ""
    _local: threading.local = field(default_factory=threading.local)
    # Array views for the search engine: documents in "slots" 0..n-1 (ascending id).
    slot_doc: np.ndarray = field(init=False)  # slot -> doc id
    chunk_slot: np.ndarray = field(init=False)  # chunk id -> slot, -1 for no such chunk
    # Per filter field: its values, and one (slot, value number) pair per tag of a document.
    tag_pairs: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = field(init=False)
    # The taxonomy phrases this generation was built with (query expansion).
    expander: QueryExpander = field(init=False)
    shown_chunks: dict[int, np.ndarray] = field(default_factory=dict, init=False)
    # The passages' sentence vectors (None while search by meaning is unavailable).
    sentences: SentenceIndex | None = field(default=None, init=False)
    _speller: Speller | None = field(default=None, init=False)
    _speller_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def speller(self) -> Speller:
        """The spelling corrector for this generation's vocabulary (built at first use)."""
        with self._speller_lock:
            if self._speller is None:
                counts = count_words(f"{d.title} {d.summary} {d.body}" for d in self.docs.values())
                # The taxonomy's words are the library's own vocabulary: a typo near one of them
                # ("phonix") means it, not a more frequent everyday word ("phone").
                terms = count_words(" ".join([e.get("label", ""), *e.get("phrases", [])])
                                    for e in self.manifest.get("expansions") or []
                                    if isinstance(e, dict))
                counts.update({w: c * TAXONOMY_WORD_WEIGHT for w, c in terms.items()})
                names = [name for d in self.docs.values()
                         for name in (d.meta.get("school_name", ""), d.meta.get("family_name", ""),
                                      *d.meta.get("authors", []))
                         if isinstance(name, str)]
                self._speller = Speller(counts, names)
            return self._speller

    def best_bets(self, query: str) -> list[dict[str, str]]:
        """What curators pinned as the best answer to this query (compared word for word)."""
        key = normalise_query(query)
        return [b for b in self.manifest.get("best_bets") or []
                if isinstance(b, dict) and b.get("query") == key and key]

    def __post_init__(self) -> None:
        self.expander = QueryExpander(self.manifest.get("expansions") or [])
        self.slot_doc = np.asarray(sorted(self.docs), dtype=np.int64)
        slot_of = {int(d): s for s, d in enumerate(self.slot_doc)}
        top = max(self.chunk_doc, default=-1)
        self.chunk_slot = np.full(top + 1, -1, dtype=np.int64)
        for chunk_id, doc_id in self.chunk_doc.items():
            self.chunk_slot[chunk_id] = slot_of[doc_id]
        pairs: dict[str, tuple[list[int], list[int]]] = {}
        values: dict[str, dict[str, int]] = {}
        for slot, doc_id in enumerate(self.slot_doc.tolist()):
            for field_name, tags in self.docs[doc_id].tags.items():
                numbers = values.setdefault(field_name, {})
                slots, found = pairs.setdefault(field_name, ([], []))
                for tag in tags:
                    slots.append(slot)
                    found.append(numbers.setdefault(tag, len(numbers)))
        self.tag_pairs = {name: (list(values[name]), np.asarray(slots, dtype=np.int64),
                                 np.asarray(found, dtype=np.int64))
                          for name, (slots, found) in pairs.items()}

    @property
    def generation(self) -> str:
        return self.gen_dir.name

    def conn(self):  # type: ignore[no-untyped-def]
        """A read-only connection for the calling thread."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = store.connect(self.gen_dir / gens.STORE, readonly=True)
            self._local.conn = conn
        return conn

    def docs_matching(self, filters: dict[str, tuple[str, ...]]) -> set[int] | None:
        """Doc ids passing the filters (OR within a field, AND across); None = no filter."""
        result: set[int] | None = None
        for field_name, values in filters.items():
            if not values:
                continue
            matched: set[int] = set()
            for value in values:
                matched |= self.postings.get((field_name, value), frozenset())
            result = matched if result is None else result & matched
        return result

    def slots_of(self, doc_ids: set[int] | None) -> np.ndarray | None:
        """A mask over slots for a set of doc ids (None stays None: no filter)."""
        if doc_ids is None:
            return None
        mask = np.zeros(len(self.slot_doc), dtype=bool)
        mask[np.searchsorted(self.slot_doc, np.fromiter(doc_ids, dtype=np.int64))] = True
        return mask

    def chunk_ids_of(self, doc_ids: set[int]) -> np.ndarray:
        parts = [self.doc_chunks[d] for d in doc_ids if d in self.doc_chunks]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def open_reader(index_dir: Path, model: str, dim: int | None = None) -> IndexReader:
    """Load the current generation, checking its files against the manifest's checksums.

    A broken or altered vector file, or one whose vectors are not `dim` wide (the model's
    width), degrades to keyword-only search; an altered search database falls back to the
    newest older intact generation, or is refused.
    """
    gen_dir = gens.current_generation(index_dir)
    if gen_dir is None:
        raise IndexUnavailableError(f"no search index in {index_dir}; run `kb index`")
    manifest = gens.read_manifest(gen_dir) or {}
    damaged = gens.damaged_files(gen_dir, manifest)
    notes: list[str] = []
    if gens.STORE in damaged:
        # A damaged search database cannot be served; an older intact generation can.
        fallback = _intact_older(index_dir, gen_dir)
        if fallback is None:
            raise IndexUnavailableError(f"the search database in {gen_dir} "
                                        f"{damaged[gens.STORE]}; run `kb check`")
        notes.append(f"serving the older {fallback.name} because the search database of "
                     f"{gen_dir.name} {damaged[gens.STORE]}; run `kb check`")
        gen_dir = fallback
        manifest = gens.read_manifest(gen_dir) or {}
        damaged = gens.damaged_files(gen_dir, manifest)
    try:
        conn = store.connect(gen_dir / gens.STORE, readonly=True)
        try:
            docs = {d.id: d for d in store.load_documents(conn)}
            owners = list(store.load_chunk_owners(conn))
            profiles = {r[0] for r in conn.execute("SELECT id FROM chunks WHERE heading = ?",
                                                   (PROFILE_HEADING,))}
        finally:
            conn.close()
    except Exception as exc:  # sqlite3.Error, json errors: the store is unusable
        raise IndexUnavailableError(f"the search database in {gen_dir} is unreadable ({exc}); "
                                    "run `kb index --full`") from None
    chunk_doc = {c: d for c, d, _ in owners}
    grouped: dict[int, list[int]] = {}
    for chunk_id, doc_id, _ in owners:
        grouped.setdefault(doc_id, []).append(chunk_id)
    doc_chunks = {d: np.asarray(ids, dtype=np.int64) for d, ids in grouped.items()}
    # The passages a result may show: its own words, not the taxonomy's profile passage
    # (unless that is all it has).
    shown = {d: np.asarray([c for c in ids if c not in profiles] or ids, dtype=np.int64)
             for d, ids in grouped.items()}
    postings: dict[tuple[str, str], set[int]] = {}
    for doc in docs.values():
        for field_name, values in doc.tags.items():
            for value in values:
                postings.setdefault((field_name, value), set()).add(doc.id)
    vectors, problem = None, ""
    if manifest.get("model") not in (None, model):
        problem = f"index was built with {manifest.get('model')}, not {model}"
    elif gens.VECTORS in damaged:
        problem = (f"{gen_dir.name}/{gens.VECTORS} {damaged[gens.VECTORS]}; "
                   "keyword search only until `kb check` rebuilds it")
    else:
        try:
            vectors = VectorIndex.load(gen_dir / gens.VECTORS, manifest.get("dim"))
            if dim is not None and vectors.dim != dim:
                # FAISS would fail every query of the model's width (an assertion, so a 500).
                problem = (f"{gen_dir.name}/{gens.VECTORS} holds vectors {vectors.dim} wide, "
                           f"the model gives {dim}; keyword search only until `kb index`")
                vectors = None
            elif vectors.size != len(chunk_doc):
                problem = f"{vectors.size} vectors for {len(chunk_doc)} chunks"
                vectors = None
        except IndexUnavailableError as exc:
            problem = str(exc)
    problem = "; ".join([*notes, problem] if problem else notes)
    if problem:
        log.warning("search degraded: %s", problem)
    reader = IndexReader(gen_dir, manifest, docs, {d.slug: d for d in docs.values()}, chunk_doc,
                         doc_chunks, {k: frozenset(v) for k, v in postings.items()}, vectors,
                         problem)
    reader.shown_chunks = shown
    if vectors is not None:
        reader.sentences = _sentences(reader, vectors.dim)
    reader.speller()  # built now, with the generation, rather than on someone's first search
    return reader


def _sentences(reader: IndexReader, dim: int) -> SentenceIndex | None:
    """The generation's sentence vectors; None (passages alone are compared, and snippets are
    marked by words) when they cannot be read."""
    try:
        matrix, owners = store.load_sentences(reader.conn(), dim)
    except (sqlite3.Error, ValueError) as exc:
        log.warning("sentence vectors of %s unusable (%s); passages only", reader.generation,
                    exc)
        return None
    return SentenceIndex.build(matrix, owners, reader.chunk_slot, len(reader.slot_doc))


def _intact_older(index_dir: Path, damaged: Path) -> Path | None:
    """The newest generation older than `damaged` whose search database is intact."""
    for gen_dir in reversed(gens.finished_generations(index_dir)):
        if gen_dir.name >= damaged.name:
            continue
        manifest = gens.read_manifest(gen_dir)
        if manifest and "checksums" in manifest and \
                gens.STORE not in gens.damaged_files(gen_dir, manifest):
            return gen_dir
    return None
