"""`kb bench scale`: index size, memory, build time, latency and recall of the vector index
at growing sizes, on synthetic vectors stretched from real passage embeddings (no network)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench import synthetic
from bench.evaluation import percentile, read_corpus
from bench.scale_report import format_filtered, plotting_available, table
from indexer.chunking import chunk_document
from indexer.embedders.base import Embedder
from indexer.records import from_document
from indexer.vectors import FLAT, IVF, VectorIndex, kind_for
from kb.content.library import load_library
from kb.errors import BadInputError
from kb.settings import Settings

NEVER = 2**62  # an ANN threshold no index reaches: exact search
FILTER_SHARES = (0.10, 0.005)  # filters letting through 10% and 0.5% of the base passages


@dataclass
class ScaleRow:
    """Figures for one size. Latencies are single queries, one at a time, in milliseconds."""

    size: int
    served: str  # the type the product uses at this size (kb.settings ann_threshold)
    ivf_lists: int
    ivf_probes: int
    exact_build_s: float
    ivf_build_s: float
    exact_disk_mb: float
    ivf_disk_mb: float
    exact_rss_mb: float
    ivf_rss_mb: float
    exact_p50_ms: float
    exact_p95_ms: float
    ivf_p50_ms: float
    ivf_p95_ms: float
    ivf_pool_p50_ms: float  # k=1000, the candidate pool a site search asks for
    recall_at_10: float
    filtered_recall_at_10: dict[str, float]
    filtered_p50_ms: dict[str, float]

    @property
    def served_p50_ms(self) -> float:
        return self.ivf_p50_ms if self.served == IVF else self.exact_p50_ms

    def as_json(self) -> str:
        return json.dumps(asdict(self) | {"served_p50_ms": self.served_p50_ms})


# Loads an index in a fresh process and prints how much resident memory that added: within
# this process, freed memory is reused and the growth would be understated.
_LOAD_RSS = """
import sys
from pathlib import Path
from indexer.vectors import VectorIndex

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

before = rss()
index = VectorIndex.load(Path(sys.argv[1]))
print(rss() - before)
"""


def loaded_rss_mb(path: Path) -> float:
    """Resident memory (MB) a fresh process gains by loading the index file at `path`."""
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH", "")) if p))
    result = subprocess.run([sys.executable, "-c", _LOAD_RSS, str(path)], env=env,
                            capture_output=True, text=True, check=False)
    try:
        return float(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return float("nan")


def library_texts(settings: Settings) -> list[str]:
    """The bundled library's passages, exactly as `kb index` embeds them."""
    docs = [from_document(d) for d in load_library(settings).published()]
    return [c.embed_text(d.title) for d in docs for c in chunk_document(d)]


def corpus_texts(folder: Path) -> list[str]:
    """Passages of a BEIR corpus (corpus.jsonl), chunked like write-ups."""
    path = folder / "corpus.jsonl" if folder.is_dir() else folder
    if not path.is_file():
        raise BadInputError(f"--corpus {folder}: no corpus.jsonl there")
    return [c.embed_text(doc.title) for doc in read_corpus(path) for c in chunk_document(doc)]


def base_vectors(texts: list[str], embedder: Embedder, cache_dir: Path) -> np.ndarray:
    """Embeddings of `texts`, cached by model and content (derived data, safe to delete)."""
    digest = hashlib.sha256("\n".join([embedder.name, *texts]).encode()).hexdigest()[:16]
    path = cache_dir / f"base-{digest}.npy"
    if path.exists():
        return np.load(path)
    with tqdm(total=len(texts), desc="Embedding base passages", unit="passage",
              leave=False) as bar:
        vectors = embedder.encode_documents(texts, progress=bar.update)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return vectors


def _time_queries(index: VectorIndex, queries: np.ndarray, k: int = 10,
                  allowed: np.ndarray | None = None) -> tuple[list[float], list[np.ndarray]]:
    """Single-query latencies (ms) and the ids found, one query at a time."""
    times, found = [], []
    for query in queries:
        started = time.perf_counter()
        ids, _ = index.search(query, k, allowed)
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids)
    return times, found


def _recall(found: list[np.ndarray], truth: list[np.ndarray]) -> float:
    hits = [len(set(f[:10].tolist()) & set(t[:10].tolist())) / max(1, min(10, len(t)))
            for f, t in zip(found, truth)]
    return float(np.mean(hits))


def _build(ids: np.ndarray, vectors: np.ndarray, path: Path, threshold: int
           ) -> tuple[float, float, float]:
    """Build and save as the pipeline does; (build seconds, MB on disk, RSS MB when loaded)."""
    started = time.perf_counter()
    index = VectorIndex.empty(vectors.shape[1])
    index.add(ids, vectors)
    index.save(path, threshold)
    seconds = time.perf_counter() - started
    return seconds, path.stat().st_size / 2**20, loaded_rss_mb(path)


def measure_size(base: np.ndarray, table: np.ndarray, size: int, queries: int,
                 threshold: int, work: Path) -> ScaleRow:
    """Build the exact and the IVF index over `size` expanded vectors and measure both."""
    vectors, origin = synthetic.expand(base, table, size, seed=size)
    ids = np.arange(1, size + 1, dtype=np.int64)
    qvecs, _ = synthetic.expand(base, table, queries, seed=size + 1)
    exact_path, ivf_path = work / "exact.faiss", work / "ivf.faiss"
    exact_build, exact_disk, exact_rss = _build(ids, vectors, exact_path, NEVER)
    ivf_build, ivf_disk, ivf_rss = _build(ids, vectors, ivf_path, 0)
    rng = np.random.default_rng(size)
    filters = {}
    for share in FILTER_SHARES:
        chosen = rng.random(len(base)) < share
        chosen[rng.integers(len(base))] = True  # never an empty filter
        filters[f"{share:.1%}"] = ids[chosen[origin]]
    del vectors, origin  # the indexes are on disk now; free 1.5 GB at 1M before loading

    exact = VectorIndex.load(exact_path)
    exact_times, truth = _time_queries(exact, qvecs)
    filtered_truth = {name: [exact.exact_search(q, 10, allowed)[0] for q in qvecs]
                      for name, allowed in filters.items()}
    del exact  # free it before loading the IVF index
    ivf = VectorIndex.load(ivf_path)
    ivf_times, found = _time_queries(ivf, qvecs)
    pool_times, _ = _time_queries(ivf, qvecs[:100], k=1000)
    filtered_recall, filtered_p50 = {}, {}
    for name, allowed in filters.items():
        times, hits = _time_queries(ivf, qvecs, 10, allowed)
        filtered_recall[name] = _recall(hits, filtered_truth[name])
        filtered_p50[name] = percentile(times, 50)
    info = ivf.describe()
    return ScaleRow(
        size=size, served=kind_for(size, FLAT, threshold),
        ivf_lists=int(info["lists"]), ivf_probes=int(info["probes"]),  # type: ignore[call-overload]
        exact_build_s=exact_build, ivf_build_s=ivf_build, exact_disk_mb=exact_disk,
        ivf_disk_mb=ivf_disk, exact_rss_mb=exact_rss, ivf_rss_mb=ivf_rss,
        exact_p50_ms=percentile(exact_times, 50), exact_p95_ms=percentile(exact_times, 95),
        ivf_p50_ms=percentile(ivf_times, 50), ivf_p95_ms=percentile(ivf_times, 95),
        ivf_pool_p50_ms=percentile(pool_times, 50), recall_at_10=_recall(found, truth),
        filtered_recall_at_10=filtered_recall, filtered_p50_ms=filtered_p50)


def run_scale(base: np.ndarray, sizes: list[int], queries: int, threshold: int,
              report: Callable[[ScaleRow], None] = lambda row: None) -> list[ScaleRow]:
    """Measure every size in turn (smallest first), calling `report` after each."""
    if len(base) < 2:
        raise BadInputError("the scale bench needs at least two base vectors")
    table = synthetic.neighbour_table(base)
    rows = []
    work = Path(tempfile.mkdtemp(prefix="kb-scale-"))
    try:
        for size in sorted(sizes):
            rows.append(measure_size(base, table, size, queries, threshold, work))
            report(rows[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def load_base(settings: Settings, corpora: list[Path], random_base: bool,
              embedder: Callable[[], Embedder]) -> tuple[np.ndarray, str]:
    """The real vectors the synthetic ones are stretched from, and a line saying what they are."""
    if random_base:
        return (synthetic.clustered_vectors(4000),
                "4000 clustered random unit vectors (no model; recall optimistic)")
    texts = library_texts(settings)
    parts = [f"{len(texts)} library passages"]
    for folder in corpora:
        more = corpus_texts(folder)
        texts += more
        parts.append(f"{len(more)} passages of {folder.name}")
    model = embedder()
    vectors = base_vectors(texts, model, settings.data_dir / "bench")
    return vectors, f"{len(texts)} real {model.name} embeddings ({', '.join(parts)})"


def parse_sizes(text: str) -> list[int]:
    """'10k,100k,1m' or '10000,100000' -> sizes (each at least 100)."""
    sizes = []
    for part in text.split(","):
        word = part.strip().lower()
        factor = {"k": 1_000, "m": 1_000_000}.get(word[-1:], 1)
        number = word[:-1] if factor > 1 else word
        try:
            size = int(float(number) * factor)
        except ValueError:
            raise BadInputError(f"--sizes: {part.strip()!r} is not a size like 10000 or "
                                "100k") from None
        if size < 100:
            raise BadInputError(f"--sizes: {size} is too small; use 100 or more")
        sizes.append(size)
    return sorted(set(sizes))


def scale_bench(settings: Settings, sizes: list[int], queries: int = 300,
                corpora: tuple[Path, ...] = (), random_base: bool = False,
                plot: Path | None = None, as_json: bool = False,
                echo: Callable[[str], None] = print,
                progress: Callable[[str], None] = print) -> list[ScaleRow]:
    """Run the whole scale bench: build the base, measure each size, print, draw the plot.

    Without matplotlib (the `bench` extra) the figures are still measured and printed; the
    plot is skipped, with a warning given before the minutes of measuring rather than after.
    """
    from indexer.embedders.factory import create_embedder

    if plot is not None and not plotting_available():
        progress("Warning: matplotlib is not installed, so no plot will be drawn (the figures "
                 "are printed as usual); for the plot: pip install 'practice-kb[bench]'")
        plot = None
    started = time.perf_counter()
    base, about = load_base(settings, list(corpora), random_base,
                            lambda: create_embedder(settings.model, settings.embedder,
                                                    settings.models_dir))
    load = os.getloadavg()[0]
    lines = [
        f"Base: {about}.",
        (f"Vectors: each indexed vector and each of the {queries} queries per size is a base "
         f"vector moved along a random mix of its {synthetic.NEIGHBOURS} nearest neighbours "
         f"(spread {synthetic.SPREAD}); queries are never in the index."),
        (f"The site switches to IVF at {settings.ann_threshold:,} vectors (KB_ANN_THRESHOLD). "
         f"Machine: {os.cpu_count()} cores, load average {load:.1f} at the start."),
    ]
    stretch = max(sizes) / len(base)
    if stretch > 20:
        lines.append(f"At {max(sizes):,} vectors each base vector is stretched {stretch:.0f}-fold; "
                     "neighbourhoods get denser and recall easier than in a real library of "
                     "that size (more base passages: --corpus).")
    for line in lines:
        progress(line)

    def done(row: ScaleRow) -> None:
        progress(f"  {row.size:,} vectors measured ({time.perf_counter() - started:.0f}s "
                 "so far)")

    rows = run_scale(base, sizes, queries, settings.ann_threshold, report=done)
    if as_json:
        for row in rows:
            echo(row.as_json())
    else:
        for line in table(rows):
            echo(line)
        echo("Filtered (allowed ids drawn per base passage):")
        for row in rows:
            echo("  " + format_filtered(row))
    if plot is not None:
        from bench.scale_report import plot_scale

        plot_scale(rows, plot, " ".join(lines[:1] + lines[2:]))
        progress(f"Plot written to {plot}")
    return rows
