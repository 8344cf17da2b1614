"""`kb bench api`: measured figures for the bundled library (build, reindex, cold start, latency,
memory), printed rather than asserted."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.evaluation import percentile
from indexer.embedders.factory import create_embedder
from indexer.pipeline import index_content
from kb.settings import Settings

QUERIES = [
    "how can I stop pupils forgetting earlier topics", "persistent absence", "boys writing",
    "helping EAL pupils talk in lessons", "teaching assistants", "marking workload",
    "year 6 to year 7 transition", "revision for GCSE", "reading age catch up",
    "parents and homework", "coaching teachers", "behaviour routines", "maths mastery",
    "children in care", "vocabulary", "group work that works", "lesson study", "music practice",
    "debate in history", "pupil premium tuition",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_bench(settings: Settings, requests: int = 300, echo=print) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Build, edit and serve a copy of the library in a temporary folder; return the figures."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        work = Settings(content_dir=Path(tmp) / "content", data_dir=Path(tmp) / "var",
                        model=settings.model, embedder=settings.embedder,
                        model_cache=settings.models_dir.resolve())
        shutil.copytree(settings.content_dir, work.content_dir)
        embedder = create_embedder(settings.model, settings.embedder, settings.models_dir)
        started = time.perf_counter()
        embedder.encode_query("warm up")
        figures["model_load_s"] = time.perf_counter() - started

        library, report = index_content(work, embedder, progress=False)
        figures["documents"] = len(library.published())
        figures["chunks"] = report.chunks_embedded
        figures["index_build_s"] = report.seconds
        figures["chunks_per_s"] = report.chunks_embedded / max(report.seconds, 1e-9)

        victim = sorted(work.practice_dir.glob("*.md"))[0]
        victim.write_text(victim.read_text(encoding="utf-8") + "\nOne more sentence.\n",
                          encoding="utf-8")
        _, report = index_content(work, embedder, progress=False)
        figures["reindex_one_edit_s"] = report.seconds

        port = _free_port()
        env = dict(os.environ, KB_CONTENT_DIR=str(work.content_dir),
                   KB_DATA_DIR=str(work.data_dir), KB_MODEL=settings.model,
                   KB_EMBEDDER=settings.embedder, KB_MODEL_CACHE=str(work.models_dir),
                   HF_HUB_OFFLINE="1")
        started = time.perf_counter()
        server = subprocess.Popen(
            # One process: its peak memory is the server's (with several workers this pid
            # would be only their parent).
            [sys.executable, "-c", "from cli.main import main; main()", "serve", "--no-index",
             "--workers", "1", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(timeout=30) as client:
                while True:
                    try:
                        if client.get(f"{base}/api/search",
                                      params={"q": "first question"}).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if server.poll() is not None or time.perf_counter() - started > 120:
                        raise RuntimeError("server did not start: " +
                                           (server.stderr.read() or b"").decode()[-500:])
                    time.sleep(0.05)
                figures["cold_start_to_first_answer_s"] = time.perf_counter() - started
                for query in QUERIES:  # the cached series repeats these
                    client.get(f"{base}/api/search", params={"q": query}).raise_for_status()
                for label, query_for in (
                        ("uncached", lambda i: f"{QUERIES[i % len(QUERIES)]} {i}"),
                        ("cached", lambda i: QUERIES[i % len(QUERIES)])):
                    times = []
                    for i in range(requests):
                        t0 = time.perf_counter()
                        response = client.get(f"{base}/api/search", params={"q": query_for(i)})
                        times.append((time.perf_counter() - t0) * 1000)
                        response.raise_for_status()
                    figures[f"api_{label}_p50_ms"] = statistics.median(times)
                    figures[f"api_{label}_p95_ms"] = percentile(times, 95)
                figures["server_peak_rss_mb"] = _rss_peak_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    figures["bench_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures
