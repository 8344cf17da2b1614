"""`kb bench embedders`: documents/s, query latency and agreement of each embedding backend,
on the same passages the index would embed (the product's chunking of a BEIR corpus)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.evaluation import Benchmark, load_beir, ndcg_at, percentile
from indexer.chunking import chunk_document
from indexer.embedders.base import Embedder
from indexer.embedders.factory import create_embedder
from kb.settings import EMBEDDERS, Settings

REFERENCE = "torch"
COLUMNS = ("load_s", "docs_per_s", "passages_per_s", "query_p50_ms", "query_p95_ms",
           "ndcg@10_dense", "min_cos_vs_torch", "mean_cos_vs_torch")


def passages(bench: Benchmark, limit: int) -> tuple[list[str], list[int]]:
    """The texts to embed and, for each, the index of its document."""
    texts, owner = [], []
    for n, doc in enumerate(bench.docs[:limit or None]):
        for chunk in chunk_document(doc):
            texts.append(chunk.embed_text(doc.title))
            owner.append(n)
    return texts, owner


def dense_ndcg(bench: Benchmark, embedder: Embedder, vectors: np.ndarray,
               owner: list[int]) -> float:
    """Dense-only nDCG@10, a document scored by its best passage."""
    owners = np.asarray(owner)
    scores = []
    for qid, text in bench.queries.items():
        sims = vectors @ embedder.encode_query(text)
        best = np.full(len(bench.docs), -2.0, dtype=np.float32)
        np.maximum.at(best, owners, sims)
        top = np.argsort(-best, kind="stable")[:10]
        scores.append(ndcg_at([bench.docs[i].slug for i in top], bench.qrels[qid]))
    return float(np.mean(scores))


def measure_backend(settings: Settings, backend: str, bench: Benchmark, texts: list[str],
                    owner: list[int], rounds: int = 3) -> tuple[dict[str, float], np.ndarray]:
    """One backend's figures and its vectors for `texts`."""
    embedder = create_embedder(settings.model, backend, settings.models_dir)
    started = time.perf_counter()
    embedder.encode_query("warm up")  # builds (or loads) the model files
    row = {"load_s": time.perf_counter() - started}
    embedder.encode_documents(texts[:8])
    started = time.perf_counter()
    vectors = embedder.encode_documents(texts)
    seconds = time.perf_counter() - started
    row["docs_per_s"] = (max(owner) + 1 if owner else 0) / seconds
    row["passages_per_s"] = len(texts) / seconds
    # Distinct strings, so the query cache never answers.
    probes = [f"{q} {n}" if n else q for n in range(rounds) for q in bench.queries.values()]
    latencies = []
    for probe in probes:
        started = time.perf_counter()
        embedder.encode_query(probe)
        latencies.append((time.perf_counter() - started) * 1000)
    row["query_p50_ms"] = statistics.median(latencies)
    row["query_p95_ms"] = percentile(latencies, 95)
    if max(owner, default=-1) + 1 == len(bench.docs):  # nDCG needs every document
        row["ndcg@10_dense"] = dense_ndcg(bench, embedder, vectors, owner)
    return row, vectors


def run_embedder_bench(settings: Settings, corpora: list[Path], limit: int = 0,
                       echo: Callable[[str], None] = print
                       ) -> list[dict[str, float | str]]:
    """Every backend on every corpus: one row each, torch first (the reference)."""
    rows: list[dict[str, float | str]] = []
    for folder in corpora:
        bench = load_beir(folder)
        texts, owner = passages(bench, limit)
        reference: np.ndarray | None = None
        for backend in (REFERENCE, *[b for b in EMBEDDERS if b != REFERENCE]):
            echo(f"{bench.name} / {backend}: embedding {len(texts)} passages ...")
            row, vectors = measure_backend(settings, backend, bench, texts, owner)
            if reference is None:
                reference = vectors
            else:
                cosines = np.sum(vectors * reference, axis=1)
                row["min_cos_vs_torch"] = float(cosines.min())
                row["mean_cos_vs_torch"] = float(cosines.mean())
            rows.append({"corpus": bench.name, "backend": backend, **row})
    return rows


def format_table(rows: list[dict[str, float | str]]) -> str:
    """One line per corpus and backend, with the speed-up over torch on the same corpus."""
    columns = [c for c in COLUMNS if any(c in row for row in rows)]
    lines = [f"{'corpus':<10}{'backend':<11}" + "".join(f"{c:>18}" for c in columns)
             + f"{'x torch':>9}"]
    torch_speed = {row["corpus"]: row["docs_per_s"] for row in rows
                   if row["backend"] == REFERENCE}
    for row in rows:
        cells = "".join(f"{row[c]:>18.4f}" if c in row else f"{'':>18}" for c in columns)
        ratio = float(row["docs_per_s"]) / float(torch_speed[row["corpus"]])
        lines.append(f"{row['corpus']!s:<10}{row['backend']!s:<11}{cells}{ratio:>8.2f}x")
    return "\n".join(lines)
