"""`kb eval`: retrieval quality and speed on a BEIR-format folder, through the product's own
chunking, embedding, FTS5, FAISS and fusion code."""

from __future__ import annotations

import json
import math
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.embedders.base import Embedder
from indexer.pipeline import update_index
from indexer.records import IndexDoc, plain_doc
from indexer.search.engine import SearchEngine, SearchParams, SearchQuery
from kb.errors import BadInputError

MODES = ("hybrid", "keyword", "dense")
PAGE = 10
TIMING_ROUNDS = 3


@dataclass(frozen=True)
class Benchmark:
    name: str
    docs: list[IndexDoc]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _read_jsonl(path: Path, needed: tuple[str, ...]) -> list[dict]:
    """The objects of a JSON-lines file, each with the `needed` keys; bad lines are named."""
    # Split on "\n" only: some texts hold Unicode line separators that splitlines() would cut.
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise BadInputError(f"{path}:{n}: not valid JSON ({exc})") from None
        missing = [key for key in needed if not isinstance(row, dict) or key not in row]
        if missing:
            raise BadInputError(f"{path}:{n}: missing {', '.join(missing)}")
        rows.append(row)
    return rows


def read_corpus(path: Path) -> list[IndexDoc]:
    """The documents of a BEIR corpus.jsonl, each an _id with an optional title and text."""
    return [plain_doc(str(r["_id"]), str(r.get("title") or ""), str(r.get("text") or ""))
            for r in _read_jsonl(path, ("_id",))]


def load_beir(folder: Path) -> Benchmark:
    """Read corpus.jsonl, queries.jsonl and qrels/test.tsv (header optional, score 0 ignored)."""
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        if not (folder / name).is_file():
            raise BadInputError(f"{folder}: {name} is missing (a BEIR folder holds corpus.jsonl, "
                                "queries.jsonl and qrels/test.tsv)")
    docs = read_corpus(folder / "corpus.jsonl")
    queries = {str(r["_id"]): str(r["text"])
               for r in _read_jsonl(folder / "queries.jsonl", ("_id", "text"))}
    qrels: dict[str, dict[str, int]] = {}
    for n, line in enumerate((folder / "qrels/test.tsv").read_text().split("\n"), start=1):
        parts = line.split("\t")
        if len(parts) < 3 or not parts[2].strip().lstrip("-").isdigit():
            continue  # header or blank line
        score = int(parts[2])
        if score > 0:
            qrels.setdefault(parts[0], {})[parts[1]] = score
    queries = {q: t for q, t in queries.items() if q in qrels}
    if not queries:
        raise BadInputError(f"{folder}: no query in qrels/test.tsv has a positive judgement")
    return Benchmark(folder.name, docs, queries, qrels)


def ndcg_at(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded (linear) gains and the log2 discount."""
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], rels: dict[str, int], k: int = 100) -> float:
    return len(set(ranked[:k]) & set(rels)) / len(rels) if rels else 0.0


def mrr_at(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    return next((1.0 / (i + 1) for i, d in enumerate(ranked[:k]) if d in rels), 0.0)


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (nan for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def evaluate(bench: Benchmark, embedder: Embedder, modes: tuple[str, ...] = MODES,
             params: SearchParams | None = None, progress: bool = True,
             work_dir: Path | None = None) -> list[dict[str, float | str]]:
    """Index the corpus into a temporary store and score every judged query in each mode."""
    params = params or SearchParams()
    # Rank every candidate: the product's "match set" cut-offs only shape what a page counts.
    params = replace(params, keyword_ratio=0.0, min_similarity=-1.0, dense_margin=2.0)
    with tempfile.TemporaryDirectory(prefix="kb-eval-", dir=work_dir) as tmp:
        index_dir = Path(tmp) / "index"
        started = time.perf_counter()
        update_index(index_dir, bench.docs, embedder, full=True, progress=progress)
        index_s = time.perf_counter() - started
        rows = []
        for mode in modes:
            embedder.clear_cache()  # every mode pays for its own query embeddings
            engine = SearchEngine(index_dir, embedder, replace(params, mode=mode),
                                  max_query_chars=10_000)
            engine.search(SearchQuery("warm up", page_size=1))
            ndcg, recall, mrr, times = [], [], [], []
            for qid, text in bench.queries.items():
                results = engine.search(SearchQuery(text, page_size=100))
                ranked = [h.doc.slug for h in results.hits]
                rels = bench.qrels[qid]
                ndcg.append(ndcg_at(ranked, rels))
                recall.append(recall_at(ranked, rels))
                mrr.append(mrr_at(ranked, rels))
            # Latency is what a reader waits for: the first page of ten results with snippets
            # and facets, query embedding included, nothing cached. Every query is timed in
            # each of TIMING_ROUNDS rounds, so a passing hiccup of the machine weighs less.
            for _ in range(TIMING_ROUNDS):
                for text in bench.queries.values():
                    engine.clear_cache()
                    t0 = time.perf_counter()
                    engine.search(SearchQuery(text, page_size=PAGE))
                    times.append((time.perf_counter() - t0) * 1000)
            engine.close()
            rows.append({
                "dataset": bench.name, "mode": mode,
                "ndcg@10": round(statistics.mean(ndcg), 4),
                "recall@100": round(statistics.mean(recall), 4),
                "mrr@10": round(statistics.mean(mrr), 4),
                "index_s": round(index_s, 2),
                "docs_per_s": round(len(bench.docs) / index_s, 1),
                "query_p50_ms": round(statistics.median(times), 2),
                "query_p95_ms": round(percentile(times, 95), 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                     1),
            })
        return rows
