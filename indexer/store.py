"""The search store: one SQLite file per index generation (documents, tags, chunks, FTS5,
sentence vectors)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import sqlite_utils

from indexer.chunking import Chunk
from indexer.records import IndexDoc

SCHEMA_VERSION = 2  # 2: sentence vectors
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"


@dataclass(frozen=True)
class StoredDoc:
    """A document row as the search layer reads it."""

    id: int
    slug: str
    title: str
    summary: str
    body: str
    date: str
    content_hash: str
    tags: dict[str, tuple[str, ...]]
    meta: dict[str, Any]


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """Open a store file with WAL and a busy timeout; read-only connections use a URI."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False,
                               timeout=10)
        # A server holds one read connection per request thread (up to 40): a small page
        # cache each (512 KiB, not SQLite's 2 MiB) bounds their sum; the file itself stays in
        # the operating system's cache, shared by all of them.
        conn.execute("PRAGMA cache_size=-512")
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the tables of an empty store."""
    db = sqlite_utils.Database(conn)
    db["documents"].create({
        "id": int, "slug": str, "title": str, "summary": str, "body": str, "date": str,
        "content_hash": str, "tags": str, "meta": str,
    }, pk="id", not_null={"slug", "title"}, if_not_exists=True)
    db["documents"].create_index(["slug"], unique=True, if_not_exists=True)
    db["doc_tags"].create({"doc_id": int, "field": str, "value": str},
                          foreign_keys=[("doc_id", "documents", "id")], if_not_exists=True)
    db["doc_tags"].create_index(["field", "value"], if_not_exists=True)
    db["doc_tags"].create_index(["doc_id"], if_not_exists=True)
    # AUTOINCREMENT: chunk ids are never reused, so a FAISS id always means one chunk.
    conn.execute("""CREATE TABLE IF NOT EXISTS chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT, doc_id INTEGER NOT NULL REFERENCES documents(id),
        position INTEGER NOT NULL, heading TEXT NOT NULL, anchor TEXT NOT NULL,
        text TEXT NOT NULL)""")
    conn.execute("CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id)")
    conn.execute(f"""CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
        title, heading, text, tokenize='{FTS_TOKENIZER}')""")
    # One vector per sentence of a chunk's text (indexer.search.sentences.sentence_spans
    # order), float32 bytes: the evidence of a passage's best sentence, and the sentence a
    # result marks.
    conn.execute("""CREATE TABLE IF NOT EXISTS sentences (
        chunk_id INTEGER NOT NULL, ord INTEGER NOT NULL, vector BLOB NOT NULL,
        PRIMARY KEY (chunk_id, ord)) WITHOUT ROWID""")
    conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    conn.commit()


def stored_hashes(conn: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    """slug -> (doc id, content hash) for every stored document."""
    return {slug: (doc_id, digest) for doc_id, slug, digest in
            conn.execute("SELECT id, slug, content_hash FROM documents")}


def delete_document(conn: sqlite3.Connection, doc_id: int) -> list[int]:
    """Remove a document and its chunks; return the removed chunk ids."""
    chunk_ids = [r[0] for r in conn.execute("SELECT id FROM chunks WHERE doc_id=?", (doc_id,))]
    conn.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(c,) for c in chunk_ids])
    conn.executemany("DELETE FROM sentences WHERE chunk_id=?", [(c,) for c in chunk_ids])
    conn.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
    conn.execute("DELETE FROM doc_tags WHERE doc_id=?", (doc_id,))
    conn.execute("DELETE FROM documents WHERE id=?", (doc_id,))
    return chunk_ids


def insert_document(conn: sqlite3.Connection, doc: IndexDoc, chunks: list[Chunk]) -> list[int]:
    """Insert a document with its tags and chunks; return the new chunk ids in order."""
    cur = conn.execute(
        "INSERT INTO documents (slug, title, summary, body, date, content_hash, tags, meta) "
        "VALUES (?,?,?,?,?,?,?,?)",
        (doc.slug, doc.title, doc.summary, doc.body, doc.date, doc.content_hash,
         json.dumps({k: list(v) for k, v in doc.tags.items()}), json.dumps(doc.meta)))
    doc_id = int(cur.lastrowid or 0)
    conn.executemany("INSERT INTO doc_tags (doc_id, field, value) VALUES (?,?,?)",
                     [(doc_id, f, v) for f, values in doc.tags.items() for v in values])
    ids: list[int] = []
    for chunk in chunks:
        cur = conn.execute(
            "INSERT INTO chunks (doc_id, position, heading, anchor, text) VALUES (?,?,?,?,?)",
            (doc_id, chunk.position, chunk.heading, chunk.anchor, chunk.text))
        chunk_id = int(cur.lastrowid or 0)
        conn.execute("INSERT INTO chunks_fts (rowid, title, heading, text) VALUES (?,?,?,?)",
                     (chunk_id, doc.title, chunk.heading, chunk.text))
        ids.append(chunk_id)
    return ids


def insert_sentences(conn: sqlite3.Connection, chunk_id: int, vectors: np.ndarray) -> None:
    """Store the sentence vectors of one chunk, in sentence order."""
    conn.executemany("INSERT INTO sentences (chunk_id, ord, vector) VALUES (?,?,?)",
                     [(chunk_id, n, np.asarray(v, dtype=np.float32).tobytes())
                      for n, v in enumerate(vectors)])


def load_sentences(conn: sqlite3.Connection, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Every sentence vector (rows) and the chunk each belongs to, in chunk and sentence order;
    a vector of another width raises ValueError. Rows are copied one by one into arrays made
    up front, so loading a generation leaves no scattered garbage behind."""
    count = conn.execute("SELECT count(*) FROM sentences").fetchone()[0]
    matrix = np.empty((count, dim), dtype=np.float32)
    owners = np.empty(count, dtype=np.int64)
    rows = conn.execute("SELECT chunk_id, vector FROM sentences ORDER BY chunk_id, ord")
    for n, (chunk_id, vector) in enumerate(rows):
        if len(vector) != 4 * dim:
            raise ValueError(f"a sentence vector of chunk {chunk_id} is {len(vector) // 4} "
                             f"wide, not {dim}")
        matrix[n] = np.frombuffer(vector, dtype=np.float32)
        owners[n] = chunk_id
    return matrix, owners


def set_meta(conn: sqlite3.Connection, values: dict[str, Any]) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     [(k, json.dumps(v)) for k, v in values.items()])


def load_documents(conn: sqlite3.Connection) -> list[StoredDoc]:
    """Every stored document (metadata and body)."""
    rows = conn.execute("SELECT id, slug, title, summary, body, date, content_hash, tags, meta "
                        "FROM documents ORDER BY id")
    return [StoredDoc(r[0], r[1], r[2], r[3], r[4], r[5], r[6],
                      {k: tuple(v) for k, v in json.loads(r[7]).items()}, json.loads(r[8]))
            for r in rows]


def load_chunk_owners(conn: sqlite3.Connection) -> Iterable[tuple[int, int, int]]:
    """(chunk id, doc id, position) for every chunk."""
    return conn.execute("SELECT id, doc_id, position FROM chunks ORDER BY id")


def load_chunks(conn: sqlite3.Connection, chunk_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """chunk id -> (heading, anchor, text)."""
    if not chunk_ids:
        return {}
    marks = ",".join("?" * len(chunk_ids))
    return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(
        f"SELECT id, heading, anchor, text FROM chunks WHERE id IN ({marks})", chunk_ids)}


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of a store through SQLite's online backup API."""
    src = connect(source, readonly=True)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
