"""Builds and updates the index: diff by content hash, chunk, embed, store, publish atomically."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from indexer import generations as gens
from indexer import store
from indexer.attachments import attachments_of
from indexer.chunking import MAX_WORDS, OVERLAP_WORDS, chunk_document
from indexer.embedders.base import Embedder
from indexer.records import IndexDoc, from_document, tag_glossary
from indexer.search.expansion import vocabulary
from indexer.search.sentences import sentence_spans
from indexer.vectors import DEFAULT_ANN_THRESHOLD, FLAT, VectorIndex, kind_for
from kb.content.library import Library, load_library
from kb.curation.catalogue import load_curation
from kb.errors import IndexUnavailableError
from kb.settings import Settings

CHUNKING = {"max_words": MAX_WORDS, "overlap_words": OVERLAP_WORDS, "version": 2}


@dataclass
class BuildReport:
    """What one `kb index` run did."""

    generation: str
    full: bool
    reason: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_embedded: int = 0
    sentences_embedded: int = 0
    seconds: float = 0.0
    swept: list[str] = field(default_factory=list)  # leftovers of interrupted builds removed
    retyped: bool = False  # only the vector index type changed (see vectors.kind_for)
    rephrased: bool = False  # only the taxonomy's search phrases changed (indexer.search.expansion)
    # Attached files that could not be read (path: reason); they were left out, nothing else.
    skipped_materials: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.full or self.retyped
                    or self.rephrased)


def fingerprint(docs: list[IndexDoc]) -> str:
    digest = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.slug):
        digest.update(f"{doc.slug}:{doc.content_hash}\n".encode())
    return digest.hexdigest()


def check_generation(gen_dir: Path, model: str, dim: int | None = None) -> str | None:
    """None when a generation is complete and matches the model (its name and, when given,
    the width `dim` of its vectors); otherwise the reason."""
    manifest = gens.read_manifest(gen_dir)
    if manifest is None:
        return "the index manifest is missing or unreadable"
    if manifest.get("model") != model:
        return f"the model changed ({manifest.get('model')} -> {model})"
    if dim is not None and manifest.get("dim") != dim:
        return f"the model gives vectors {dim} wide, the index holds {manifest.get('dim')}"
    if manifest.get("chunking") != CHUNKING or manifest.get("schema") != store.SCHEMA_VERSION:
        return "the chunking settings or store schema changed"
    if not isinstance(manifest.get("checksums"), dict):
        return "the index manifest records no checksums (built by an older version)"
    damaged = gens.damaged_files(gen_dir, manifest)
    if damaged:
        return "; ".join(f"{name} {why}" for name, why in sorted(damaged.items()))
    try:
        conn = store.connect(gen_dir / gens.STORE, readonly=True)
        try:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                return "the search database is damaged"
            chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        finally:
            conn.close()
        vectors = VectorIndex.load(gen_dir / gens.VECTORS, manifest.get("dim"))
    except (sqlite3.Error, IndexUnavailableError) as exc:
        return f"the index files are damaged ({exc})"
    if vectors.size != chunks:
        return f"the vector index holds {vectors.size} vectors for {chunks} chunks"
    return None


def retype_reason(gen_dir: Path, threshold: int) -> str | None:
    """Why the vector index of a generation should change type for `threshold`, or None."""
    manifest = gens.read_manifest(gen_dir) or {}
    current = (manifest.get("vector_index") or {}).get("kind", FLAT)
    wanted = kind_for(int(manifest.get("vectors", 0)), current, threshold)
    return None if wanted == current else f"the vector index changes from {current} to {wanted}"


def update_index(index_dir: Path, docs: list[IndexDoc], embedder: Embedder, *,
                 full: bool = False, progress: bool = True,
                 ann_threshold: int = DEFAULT_ANN_THRESHOLD,
                 expansions: list[dict[str, Any]] | None = None,
                 best_bets: list[dict[str, str]] | None = None) -> BuildReport:
    """Bring the index in line with `docs`, re-embedding only new or changed documents.

    The new generation is built beside the current one and published by renaming, so a
    crash at any point leaves the previous index serving. Past `ann_threshold` vectors the
    vector index is approximate (IVF); a change of threshold alone re-saves the vectors.
    `expansions` (the taxonomy's phrases, see indexer.search.expansion) are stored in the manifest;
    a change to them alone publishes a new generation without re-embedding anything; so does
    a change to the curators' `best_bets` (write-ups or collections pinned to a query).
    """
    expansions = expansions or []
    best_bets = best_bets or []
    started = time.perf_counter()
    with gens.build_lock(index_dir) as swept:
        current = gens.current_generation(index_dir)
        reason = ("a full rebuild was asked for" if full else
                  "there is no index yet" if current is None else
                  check_generation(current, embedder.name, embedder.dim))
        incremental = reason is None
        stored: dict[str, tuple[int, str]] = {}
        if incremental and current is not None:
            conn = store.connect(current / gens.STORE, readonly=True)
            try:
                stored = store.stored_hashes(conn)
            finally:
                conn.close()
        wanted = {d.slug: d for d in docs}
        changed = [d for d in docs if stored.get(d.slug, (0, ""))[1] != d.content_hash]
        gone = [slug for slug in stored if slug not in wanted]
        report = BuildReport(
            generation=current.name if current else "", full=not incremental,
            reason=reason or "incremental update",
            added=[d.slug for d in changed if d.slug not in stored],
            updated=[d.slug for d in changed if d.slug in stored],
            removed=gone, unchanged=len(docs) - len(changed), swept=swept)
        if incremental and not changed and not gone:
            retype = retype_reason(current, ann_threshold) if current is not None else None
            manifest = (gens.read_manifest(current) or {}) if current is not None else {}
            rephrased = current is not None and (manifest.get("expansions") != expansions or
                                                 manifest.get("best_bets", []) != best_bets)
            if retype is None and not rephrased:
                report.seconds = time.perf_counter() - started
                return report
            report.retyped, report.rephrased = retype is not None, rephrased
            report.reason = retype or "the search phrases or best bets changed"

        number = gens.next_generation_number(index_dir)
        work = index_dir / f"gen-{number:08d}.building"
        work.mkdir()
        chunked = [(doc, chunk_document(doc)) for doc in changed]
        texts = [c.embed_text(doc.title) for doc, chunks in chunked for c in chunks]
        vectors_new = _embed(embedder, texts, progress, "Embedding passages")
        # Each passage's sentences too: a result's best sentence is evidence for it, and the
        # sentence its snippet marks (indexer.search.sentences).
        spans = [sentence_spans(c.text) for _, chunks in chunked for c in chunks]
        flat = [c for _, chunks in chunked for c in chunks]
        sentence_vectors = _embed(embedder, [c.text[a:b] for c, cut in zip(flat, spans)
                                             for a, b in cut], progress, "Embedding sentences")
        if incremental and current is not None:
            store.copy_store(current / gens.STORE, work / gens.STORE)
            vectors = VectorIndex.load(current / gens.VECTORS)
        else:
            vectors = VectorIndex.empty(embedder.dim)
        conn = store.connect(work / gens.STORE)
        try:
            if not incremental:
                store.create_schema(conn)
            with conn:
                for slug in gone + [d.slug for d in changed if d.slug in stored]:
                    vectors.remove(store.delete_document(conn, stored[slug][0]))
                offset, sentence_at = 0, 0
                for doc, chunks in chunked:
                    ids = store.insert_document(conn, doc, chunks)
                    vectors.add(ids, vectors_new[offset:offset + len(ids)])
                    for chunk_id, cut in zip(ids, spans[offset:offset + len(ids)]):
                        store.insert_sentences(
                            conn, chunk_id, sentence_vectors[sentence_at:sentence_at + len(cut)])
                        sentence_at += len(cut)
                    offset += len(ids)
                total_chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
                store.set_meta(conn, {"model": embedder.name, "fingerprint": fingerprint(docs)})
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()
        vectors.save(work / gens.VECTORS, ann_threshold)
        # Checksums are taken last, over the files exactly as they will be served.
        gens.write_json_atomic(work / gens.MANIFEST, {
            "checksums": gens.file_checksums(work),
            "generation": number, "model": embedder.name, "dim": vectors.dim,
            "chunking": CHUNKING, "schema": store.SCHEMA_VERSION, "documents": len(docs),
            "chunks": total_chunks, "vectors": vectors.size, "fingerprint": fingerprint(docs),
            "vector_index": vectors.describe(), "expansions": expansions,
            "best_bets": best_bets,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
        final = gens.publish_generation(index_dir, work, number)
        gens.sweep_generations(index_dir)
        report.generation = final.name
        report.chunks_embedded = len(texts)
        report.sentences_embedded = len(sentence_vectors)
        report.seconds = time.perf_counter() - started
        return report


def _embed(embedder: Embedder, texts: list[str], progress: bool,  # type: ignore[no-untyped-def]
           what: str):
    if not texts:
        import numpy as np
        return np.zeros((0, 1), dtype="float32")
    with tqdm(total=len(texts), desc=what, unit="text",
              disable=not progress, leave=False) as bar:
        return embedder.encode_documents(texts, progress=bar.update)


def index_content(settings: Settings, embedder: Embedder, *, full: bool = False,
                  progress: bool = True) -> tuple[Library, BuildReport]:
    """Validate the content folder and index its published write-ups (invalid ones skipped)."""
    library = load_library(settings)
    tuning = load_curation(settings, library).tuning
    glossary = tag_glossary(library.taxonomy)
    skipped: list[str] = []
    docs = [from_document(d, glossary, attachments_of(settings, d.slug, skipped))
            for d in library.published()]
    report = update_index(settings.index_dir, docs, embedder, full=full,
                          progress=progress, ann_threshold=settings.ann_threshold,
                          expansions=vocabulary(library.taxonomy, tuning.aliases),
                          best_bets=[{"query": b.key, "kind": b.kind, "slug": b.slug,
                                      "note": b.note} for b in tuning.best_bets])
    report.skipped_materials = skipped
    return library, report

