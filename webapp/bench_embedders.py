"""`kb bench --embedders`: documents/s, query latency and agreement of each embedding backend."""

from __future__ import annotations

import json
import math
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np

from indexer.embedding import Embedder, create_embedder
from kb.errors import BadInputError
from kb.settings import Settings
from webapp.bench import QUERIES, _percentile

DEFAULT_CORPUS = Path("../shared/datasets/msmarco/corpus.jsonl")
REFERENCE = "torch"
COLUMNS = ("load_s", "docs_per_s", "query_p50_ms", "query_p95_ms", "ndcg@10_dense",
           "max_cos_diff_vs_torch", "max_cos_diff_vs_onnx")


def load_corpus(path: Path) -> tuple[list[str], list[str]]:
    """Ids and `title + " " + text` of a BEIR corpus.jsonl (split on "\\n" only: some texts
    hold Unicode line separators that str.splitlines() would break on)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInputError(f"cannot read the corpus {path}: {exc.strerror}") from None
    ids, texts = [], []
    for number, line in enumerate(raw.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            ids.append(str(doc["_id"]))
            texts.append(f"{doc.get('title') or ''} {doc['text']}")
        except (ValueError, KeyError, TypeError):
            raise BadInputError(f"{path}:{number}: not a BEIR document "
                                "(a JSON object with _id and text)") from None
    return ids, texts


def load_queries(folder: Path) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """Queries and graded judgements beside a corpus, when present (else both empty)."""
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    if (folder / "queries.jsonl").is_file():
        for line in (folder / "queries.jsonl").read_text(encoding="utf-8").split("\n"):
            if line.strip():
                query = json.loads(line)
                queries[str(query["_id"])] = query["text"]
    if (folder / "qrels" / "test.tsv").is_file():
        for line in (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").split("\n"):
            parts = line.split("\t")
            if len(parts) == 3 and parts[2].strip().isdigit() and int(parts[2]) > 0:
                qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return queries, qrels


def ndcg_at_10(query_vecs: dict[str, np.ndarray], doc_ids: list[str], doc_vecs: np.ndarray,
               qrels: dict[str, dict[str, int]]) -> float:
    """Dense-only nDCG@10 (linear graded gain, log2 discount) over the judged queries."""
    scores = []
    for qid, vec in query_vecs.items():
        judged = qrels.get(qid)
        if not judged:
            continue
        top = np.argsort(-(doc_vecs @ vec), kind="stable")[:10]
        dcg = sum(judged.get(doc_ids[i], 0) / math.log2(rank + 2) for rank, i in enumerate(top))
        ideal = sorted(judged.values(), reverse=True)[:10]
        scores.append(dcg / sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal)))
    return float(np.mean(scores)) if scores else float("nan")


def _max_cos_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(1.0 - np.sum(a * b, axis=1))))


def run_embedder_bench(settings: Settings, corpus: Path = DEFAULT_CORPUS, limit: int = 1000,
                       rounds: int = 3, echo: Callable[[str], None] = print
                       ) -> dict[str, dict[str, float]]:
    """Embed the same texts with every backend; return figures per backend."""
    all_ids, all_texts = load_corpus(corpus)
    ids, texts = all_ids[:limit or None], all_texts[:limit or None]
    queries, qrels = load_queries(corpus.parent)
    query_texts = list(queries.values()) or QUERIES
    # Distinct strings, so the query cache never answers.
    probes = [f"{q} {n}" if n else q for n in range(rounds) for q in query_texts]
    full_corpus = bool(qrels) and len(texts) == len(all_texts)  # nDCG needs every document
    figures: dict[str, dict[str, float]] = {}
    vectors: dict[str, np.ndarray] = {}
    for backend in (REFERENCE, "onnx", "onnx-int8"):
        echo(f"{backend}: embedding {len(texts)} texts ...")
        embedder: Embedder = create_embedder(settings.model, backend, settings.data_dir)
        started = time.perf_counter()
        name = embedder.name  # builds (or loads) the model files
        embedder.encode_query("warm up")
        row = {"load_s": time.perf_counter() - started}
        if backend != REFERENCE and not name.endswith(f"+{backend}"):
            echo(f"{backend}: fell back to torch; skipped")
            continue
        embedder.encode_documents(texts[:8])
        started = time.perf_counter()
        vectors[backend] = embedder.encode_documents(texts)
        row["docs_per_s"] = len(texts) / (time.perf_counter() - started)
        latencies = []
        for probe in probes:
            started = time.perf_counter()
            embedder.encode_query(probe)
            latencies.append((time.perf_counter() - started) * 1000)
        row["query_p50_ms"] = statistics.median(latencies)
        row["query_p95_ms"] = _percentile(latencies, 95)
        if full_corpus:
            row["ndcg@10_dense"] = ndcg_at_10(
                {qid: embedder.encode_query(text) for qid, text in queries.items()},
                ids, vectors[backend], qrels)
        if backend != REFERENCE:
            row["max_cos_diff_vs_torch"] = _max_cos_diff(vectors[backend], vectors[REFERENCE])
        figures[backend] = row
    if "onnx" in vectors and "onnx-int8" in vectors:
        figures["onnx-int8"]["max_cos_diff_vs_onnx"] = _max_cos_diff(vectors["onnx-int8"],
                                                                    vectors["onnx"])
    return figures


def format_table(figures: dict[str, dict[str, float]]) -> str:
    """Backends as rows, figures as columns."""
    columns = [c for c in COLUMNS if any(c in row for row in figures.values())]
    lines = ["backend    " + "".join(f"{c:>22}" for c in columns)]
    for backend, row in figures.items():
        lines.append(f"{backend:<11}" + "".join(
            f"{row[c]:>22.4f}" if c in row else f"{'':>22}" for c in columns))
    ratio = [f"{b} {figures[b]['docs_per_s'] / figures[REFERENCE]['docs_per_s']:.2f}x"
             for b in figures if b != REFERENCE and REFERENCE in figures]
    if ratio:
        lines.append("documents/s against torch: " + ", ".join(ratio))
    return "\n".join(lines)

