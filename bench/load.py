"""`kb bench load`: a soak test of the real server under the mixed load of reliability.md (c),
sent open-loop at a fixed rate over loopback, reporting latency, errors, memory and open files."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.api import QUERIES, _free_port
from bench.evaluation import percentile
from bench.load_writes import WriteLog, Writers, check_writes, create_writers, write_loop
from indexer.embedders.factory import create_embedder
from indexer.pipeline import index_content
from kb.settings import Settings

CLASSES = ("pages", "search", "api")
COLUMNS = CLASSES + ("writes",)  # writes: submissions and approvals at their own fixed rate
WEIGHTS = (70, 25, 5)  # reliability.md (c): practice/browse pages, search, API
MAX_IN_FLIGHT = 64  # more than this outstanding means the server has fallen behind
EXTRA_WORDS = ["year 7", "primary", "ks3", "send", "boys", "girls", "science", "english",
               "homework", "feedback", "routines", "parents", "disadvantaged", "retrieval",
               "oracy", "writing", "attendance", "tutoring", "reading", "maths"]


@dataclass
class Window:
    """Answers collected in one reporting interval."""

    times: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in COLUMNS})
    errors: int = 0
    skipped: int = 0  # requests not sent because MAX_IN_FLIGHT were outstanding

    def count(self) -> int:
        """Requests answered (well or not) in the interval."""
        return sum(len(t) for t in self.times.values()) + self.errors


def process_memory(pid: int) -> tuple[float, int]:
    """The resident memory (MB) and open file descriptors of a process, from /proc."""
    rss = float("nan")
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        fds = -1
    return rss, fds


@contextlib.contextmanager
def served_copy(settings: Settings, echo: Callable[[str], None], submissions: int = 1
                ) -> Iterator[tuple[str, int, Writers]]:
    """Index a copy of the content folder in a temporary data folder and serve it on loopback
    with `kb serve --no-index` in a subprocess; yields the base URL, the server's pid and the
    accounts that write during the load. Errors the server logged are echoed at the end."""
    with tempfile.TemporaryDirectory(prefix="kb-load-") as tmp:
        work = Settings(content_dir=Path(tmp) / "content", data_dir=Path(tmp) / "var",
                        model=settings.model, embedder=settings.embedder,
                        model_cache=settings.models_dir.resolve())
        shutil.copytree(settings.content_dir, work.content_dir)
        embedder = create_embedder(settings.model, settings.embedder, settings.models_dir)
        library, report = index_content(work, embedder, progress=False)
        del embedder
        writers = create_writers(work, submissions)
        echo(f"indexed {len(library.published())} write-ups ({report.chunks_embedded} passages) "
             f"in {report.seconds:.1f}s")
        port = _free_port()
        env = dict(os.environ, KB_CONTENT_DIR=str(work.content_dir),
                   KB_DATA_DIR=str(work.data_dir), KB_MODEL=settings.model,
                   KB_EMBEDDER=settings.embedder, KB_MODEL_CACHE=str(work.models_dir),
                   HF_HUB_OFFLINE="1")
        server_log = Path(tmp) / "server.log"  # a file, not a pipe nobody reads during the run
        with open(server_log, "wb") as log_file:
            server = subprocess.Popen(
                # One process, so the memory and open files read from /proc are the
                # server's own (with several workers this pid would be only their parent).
                [sys.executable, "-c", "from cli.main import main; main()", "serve",
                 "--no-index", "--workers", "1", "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=subprocess.DEVNULL, stderr=log_file)
        base = f"http://127.0.0.1:{port}"
        try:
            try:
                _wait_ready(base, server)
            except RuntimeError as exc:
                tail = server_log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{exc}; its log ends:\n{tail}") from None
            yield base, server.pid, writers
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            for line in server_errors(server_log.read_text(errors="replace")):
                echo(line)


def server_errors(log: str, tail: int = 14) -> list[str]:
    """What a server log says went wrong: each distinct error (a traceback's exception line,
    or an ERROR line) with how often it came, and the end of its first traceback."""
    blocks: list[list[str]] = []
    inside = False
    for line in log.splitlines():
        starts = line.startswith(("Traceback", "ERROR")) or " ERROR " in line
        if starts and not inside:
            blocks.append([])
        if starts or inside:
            blocks[-1].append(line)
            inside = starts or not line.strip() or line.startswith((" ", "\t", "During",
                                                                      "The above", "Traceback"))
    seen: dict[str, list[list[str]]] = {}
    for block in blocks:
        seen.setdefault(block[-1], []).append(block)
    out = ["server log, errors:"] if seen else []
    for last, found in seen.items():
        out.append(f"  x{len(found)}: {last}")
        out += ["    " + line for line in found[0][-tail:-1]]
    return out


def _wait_ready(base: str, server: subprocess.Popen) -> None:  # type: ignore[type-arg]
    started = time.monotonic()
    with httpx.Client(timeout=30) as client:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{base}/api/search", params={"q": "ready"}).status_code == 200:
                    return
            if server.poll() is not None or time.monotonic() - started > 180:
                raise RuntimeError(f"the server did not start (exit code {server.poll()})")
            time.sleep(0.1)


def targets(base: str) -> dict[str, list[str]]:
    """The URLs of each class, found through the public API of the running server."""
    with httpx.Client(base_url=base, timeout=30) as client:
        slugs = [p["slug"] for p in client.get("/api/practices").json()["results"]]
        taxonomy = client.get("/api/taxonomy").json()
        collections = [c["slug"] for c in client.get("/api/collections").json().get("results", [])]
        programmes = [p["slug"] for p in client.get("/api/programmes").json()]
    subjects = [t["id"] for t in taxonomy.get("subject", [])]
    interventions = [t["id"] for t in taxonomy.get("intervention", [])]
    pages = ([f"/practice/{s}" for s in slugs] * 3 + ["/", "/subjects", "/interventions",
             "/collections", "/programmes"] + [f"/subjects/{s}" for s in subjects]
             + [f"/interventions/{i}" for i in interventions]
             + [f"/collections/{c}" for c in collections]
             + [f"/programmes/{p}" for p in programmes])
    api = ([f"/api/practices/{s}" for s in slugs] + ["/api/practices"]
           + [f"/api/practices?subject={s}" for s in subjects[:5]])
    return {"pages": pages, "api": api}


def search_url(rng: random.Random, subjects: list[str]) -> str:
    """A search as people type them: popular queries repeat, many are one-offs."""
    query = rng.choice(QUERIES)
    if rng.random() < 0.5:
        query = f"{query} {rng.choice(EXTRA_WORDS)} {rng.randrange(1000)}"
    params = {"q": query}
    if subjects and rng.random() < 0.2:
        params["subject"] = rng.choice(subjects)
    if rng.random() < 0.1:
        params["page"] = "2"
    api = rng.random() < 0.2  # the JSON twin counts as search too
    return ("/api/search?" if api else "/search?") + str(httpx.QueryParams(params))


async def _drive(base: str, urls: dict[str, list[str]], subjects: list[str], seconds: float,
                 rate: float, every: float, pid: int, echo: Callable[[str], None],
                 seed: int, writers: Writers, log: WriteLog,
                 write_rates: tuple[float, float]) -> list[dict[str, float]]:
    rng = random.Random(seed)
    rows: list[dict[str, float]] = []
    window, opened = Window(), time.perf_counter()
    in_flight = 0
    failures: dict[str, int] = {}

    async def one(client: httpx.AsyncClient, kind: str, url: str, due: float) -> None:
        nonlocal in_flight
        try:
            response = await client.get(url)
            ok = response.status_code == 200
            if not ok:
                failures[f"{response.status_code} {url.split('?')[0]}"] = \
                    failures.get(f"{response.status_code} {url.split('?')[0]}", 0) + 1
        except httpx.HTTPError as exc:
            ok = False
            failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
        finally:
            in_flight -= 1
        # Latency from when the request was due, not when it was sent (no coordinated omission).
        if ok:
            window.times[kind].append((time.perf_counter() - due) * 1000)
        else:
            window.errors += 1

    def record(kind: str, ms: float | None) -> None:
        if ms is None:
            window.errors += 1
        else:
            window.times[kind].append(ms)

    # Idle connections are dropped by the client before uvicorn's 5 s keep-alive timeout closes
    # them, so a request never races the server's close (a ReadError that is no server fault).
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT,
                          keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        start = time.perf_counter()
        tasks: set[asyncio.Task[None]] = set()
        writing = asyncio.create_task(write_loop(base, writers, seconds, record, log,
                                                 *write_rates))
        sent, next_report, number = 0, start + every, 0
        while True:
            due = start + sent / rate
            now = time.perf_counter()
            if due >= start + seconds:
                break
            if now >= next_report:
                number += 1
                rows.append(_report(number, window, now - opened, pid, echo))
                window, opened, next_report = Window(), now, next_report + every
                continue
            if due > now:
                await asyncio.sleep(min(due, next_report) - now)
                continue
            kind = rng.choices(CLASSES, WEIGHTS)[0]
            url = search_url(rng, subjects) if kind == "search" else rng.choice(urls[kind])
            sent += 1
            if in_flight >= MAX_IN_FLIGHT:  # the server has fallen far behind: shed, and say so
                window.skipped += 1
                continue
            in_flight += 1
            task = asyncio.create_task(one(client, kind, url, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.sleep(max(0.0, start + seconds - time.perf_counter()))
        if tasks:
            await asyncio.wait(tasks, timeout=30)
        await asyncio.wait_for(writing, timeout=180)
        number += 1
        rows.append(_report(number, window, time.perf_counter() - opened, pid, echo))
    for what, count in sorted({**failures, **log.failures}.items()):
        echo(f"  failed: {what} x{count}")
    return rows


def _report(number: int, window: Window, seconds: float, pid: int,
            echo: Callable[[str], None]) -> dict[str, float]:
    rss, fds = process_memory(pid)
    row: dict[str, float] = {"interval": number, "req_s": window.count() / max(seconds, 1e-9),
                             "errors": window.errors, "skipped": window.skipped,
                             "rss_mb": rss, "open_files": fds}
    row["writes_n"] = len(window.times["writes"])
    for kind in COLUMNS:
        times = window.times[kind]
        for p in (50, 95, 99):
            row[f"{kind}_p{p}"] = percentile(times, p) if times else float("nan")
    echo(format_row(row))
    return row


HEADER = ("   # req/s  pages p50/p95/p99 ms  search p50/p95/p99 ms  api p50/p95/p99 ms  "
          "writes n/p95 ms  errors  shed  rss MB  files")


def format_row(row: dict[str, float]) -> str:
    cells = [f"{row[f'{k}_p50']:.0f}/{row[f'{k}_p95']:.0f}/{row[f'{k}_p99']:.0f}"
             for k in CLASSES]
    return (f"{int(row['interval']):4d} {row['req_s']:5.1f}  {cells[0]:>19}  {cells[1]:>20}  "
            f"{cells[2]:>17}  {int(row['writes_n']):5d}/{row['writes_p95']:<7.0f}  "
            f"{int(row['errors']):6d}  {int(row['skipped']):4d}  "
            f"{row['rss_mb']:6.1f}  "
            f"{int(row['open_files']):5d}")


def run_load(settings: Settings, seconds: float, rate: float = 50.0, every: float = 60.0,
             echo: Callable[[str], None] = print, seed: int = 15,
             write_rates: tuple[float, float] = (5.0, 1.0)) -> dict[str, float]:
    """Serve a copy of the library and send the mixed load for `seconds`; print a line every
    `every` seconds and return the summary."""
    log = WriteLog()
    submissions = int(seconds / 60 * write_rates[0]) + 1
    with served_copy(settings, echo, submissions) as (base, pid, writers):
        urls = targets(base)
        subjects = [u.rsplit("/", 1)[1] for u in urls["pages"] if u.startswith("/subjects/")]
        echo(f"server pid {pid} on {base}; {rate:g} req/s for {seconds:g}s "
             f"(pages/search/api {'/'.join(map(str, WEIGHTS))}%), a line every {every:g}s")
        echo(f"writes: a contributor submits {write_rates[0]:g} write-ups a minute and a "
             f"moderator approves {write_rates[1]:g} a minute (each approval updates the index "
             "while the load runs)")
        echo(HEADER)
        rows = asyncio.run(_drive(base, urls, subjects, seconds, rate, every, pid, echo, seed,
                                  writers, log, write_rates))
        missing = check_writes(base, writers, log)
    for what in missing:
        echo(f"  lost: {what}")
    summary = summarise(rows)
    summary.update(submitted=float(len(log.submitted)), approved=float(len(log.approved)),
                   lost=float(len(missing)))
    return summary


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    """Totals over the run; memory growth is measured from the end of the second interval."""
    summary = {"intervals": float(len(rows)),
               "req_s": sum(r["req_s"] for r in rows) / len(rows),
               "errors": sum(r["errors"] for r in rows),
               "shed": sum(r["skipped"] for r in rows),
               "worst_pages_p95_ms": max(r["pages_p95"] for r in rows),
               "worst_search_p95_ms": max(r["search_p95"] for r in rows),
               "rss_first_mb": rows[0]["rss_mb"], "rss_last_mb": rows[-1]["rss_mb"],
               "files_max": max(r["open_files"] for r in rows)}
    base = rows[1]["rss_mb"] if len(rows) > 2 else rows[0]["rss_mb"]
    summary["rss_growth_after_2_pct"] = (rows[-1]["rss_mb"] - base) / base * 100
    return summary


def format_summary(summary: dict[str, float]) -> str:
    return (f"summary: {summary['req_s']:.1f} req/s over {int(summary['intervals'])} intervals, "
            f"{int(summary['errors'])} errors, {int(summary['shed'])} shed, worst p95 pages "
            f"{summary['worst_pages_p95_ms']:.0f} ms, search "
            f"{summary['worst_search_p95_ms']:.0f} ms, memory "
            f"{summary['rss_first_mb']:.0f} -> {summary['rss_last_mb']:.0f} MB "
            f"({summary['rss_growth_after_2_pct']:+.1f}% after the second interval), "
            f"at most {int(summary['files_max'])} open files; writes: "
            f"{int(summary.get('submitted', 0))} submitted, {int(summary.get('approved', 0))} "
            f"approved, {int(summary.get('lost', 0))} lost")
