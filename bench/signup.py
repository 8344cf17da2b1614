"""`kb bench signup`: the opening minute of inset-day sign-up against a real multi-process
`kb serve`, with a consistency check of the database afterwards."""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httpx
from argon2 import PasswordHasher

from bench.evaluation import percentile
from kb.curation.catalogue import load_curation
from kb.curation.programme import Programme
from kb.settings import Settings
from kb.state.accounts import LoginPolicy, User, get_user, start_session
from kb.state.database import StateStore, now_iso, open_state
from kb.workflows import attendance

PROGRAMME = "common-inset-day-2022"
PASSWORD = "bench teacher password"


@dataclass
class Teacher:
    user: User
    token: str = ""
    placed: dict[str, str] = field(default_factory=dict)  # acknowledged, per slot
    waiting: dict[str, str] = field(default_factory=dict)


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    done: int = 0
    requests: int = 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(settings: Settings, work: Path, teachers: int) -> tuple[Settings, Programme]:
    """A copy of the content whose day seats about 1.15 x the teachers in each slot."""
    bench = Settings(content_dir=work / "content", data_dir=work / "var", model=settings.model,
                     embedder=settings.embedder, model_cache=settings.models_dir.resolve())
    shutil.copytree(settings.content_dir, bench.content_dir)
    path = bench.programmes_dir / f"{PROGRAMME}.yaml"
    seats = math.ceil(teachers * 1.15 / 5)
    path.write_text(re.sub(r"capacity: \d+", f"capacity: {seats}",
                           path.read_text(encoding="utf-8")), encoding="utf-8")
    return bench, load_curation(bench).programme(PROGRAMME)


def make_accounts(store: StateStore, count: int) -> tuple[list[Teacher], User]:
    """Real accounts (one password hash shared, so set-up takes seconds) and sessions."""
    digest = PasswordHasher().hash(PASSWORD)
    with store.write() as conn:
        rows = [(f"teacher{i}@bench.example", f"Bench Teacher {i}", "reader", digest,
                 now_iso()) for i in range(count)]
        rows.append(("lead@bench.example", "Bench Lead", "curator", digest, now_iso()))
        conn.executemany("INSERT INTO users (email, name, role, password_hash, created_at) "
                         "VALUES (?,?,?,?,?)", rows)
    policy = LoginPolicy()
    out = []
    for i in range(count):
        user = get_user(store, f"teacher{i}@bench.example")
        out.append(Teacher(user, start_session(store, user, policy)))
    return out, get_user(store, "lead@bench.example")


def check(store: StateStore, programme: Programme, teachers: list[Teacher]) -> list[str]:
    """The database's own rules, plus every acknowledged sign-up still there (or promoted)."""
    problems = attendance.inconsistencies(store, programme)
    for t in teachers:
        day = attendance.day_of(store, t.user.id, programme.slug)
        for slot in set(t.placed) | set(t.waiting):
            have = day.get(slot, attendance.MyEntry())
            want, queue = t.placed.get(slot, ""), t.waiting.get(slot, "")
            promoted = bool(queue) and have.placed == queue and not have.waiting
            if want and have.placed != want and not promoted:
                problems.append(f"{t.user.email} {slot}: acknowledged {want}, found "
                                f"{have.placed or 'nothing'}")
            if queue and have.waiting != queue and have.placed != queue:
                problems.append(f"{t.user.email} {slot}: queued for {queue}, not found")
    return problems


async def _post(client: httpx.AsyncClient, run: Run, teacher: Teacher, csrf: str, url: str,
                body: dict) -> httpx.Response | None:  # type: ignore[type-arg]
    started = time.perf_counter()
    run.requests += 1
    try:
        response = await client.post(url, json=body, headers={
            "Cookie": f"kb_session={teacher.token}", "X-CSRF-Token": csrf})
    except httpx.HTTPError as exc:
        run.errors.append(f"{url}: {type(exc).__name__}")
        return None
    run.latencies.append((time.perf_counter() - started) * 1000)
    if response.status_code not in (200, 409):
        run.errors.append(f"{url}: {response.status_code} {response.text[:120]}")
        return None
    return response


async def _teacher(client: httpx.AsyncClient, run: Run, teacher: Teacher, base: str,
                   slots: list[tuple[str, list[str]]], rng: random.Random,
                   change_mind: bool) -> None:
    run.requests += 1
    try:
        me = await client.get(f"{base}/api/me",
                              headers={"Cookie": f"kb_session={teacher.token}"})
    except httpx.HTTPError as exc:
        run.errors.append(f"/api/me: {type(exc).__name__}")
        return
    if me.status_code != 200:
        run.errors.append(f"/api/me: {me.status_code}")
        return
    csrf = me.json()["csrf_token"]
    url = f"{base}/api/programmes/{PROGRAMME}/signup"
    wishes = []
    for slot, strands in slots:
        # Popular first columns: the first two strands are favourites more often.
        order = sorted(strands, key=lambda s: rng.random() / (1 + 2 * (strands.index(s) < 2)))
        wishes.append({"slot": slot, "strands": order, "waitlist": True})
    answer = await _post(client, run, teacher, csrf, f"{url}/day", {"wishes": wishes})
    if answer is None:
        return
    if answer.status_code != 200:
        run.errors.append(f"{url}/day: {answer.status_code} {answer.text[:120]}")
        return
    for got in answer.json():
        if got["placed"]:
            teacher.placed[got["slot"]] = got["placed"]
        if got["waiting"]:
            teacher.waiting[got["slot"]] = got["waiting"]
    if change_mind and teacher.placed:
        slot = rng.choice(sorted(teacher.placed))
        if rng.random() < 0.5:
            answer = await _post(client, run, teacher, csrf, f"{url}/cancel", {"slot": slot})
            if answer is not None and answer.status_code == 200:
                teacher.placed.pop(slot, None)
        else:
            others = [s for s in dict(slots)[slot]
                      if s not in (teacher.placed[slot], teacher.waiting.get(slot))]
            strand = rng.choice(others)
            answer = await _post(client, run, teacher, csrf, url, {"slot": slot,
                                                                   "strand": strand})
            if answer is not None and answer.status_code == 200:
                teacher.placed[slot] = strand
    run.done += 1


async def _drive(base: str, teachers: list[Teacher], programme: Programme, ramp: float,
                 concurrency: int, seed: int) -> Run:
    run = Run()
    rng = random.Random(seed)
    slots = [(s.start, [x.strand for x in s.sessions]) for s in programme.slots if s.sessions]
    gate = asyncio.Semaphore(concurrency)
    # Idle connections are dropped after 3 s, before uvicorn closes them (after 5 s): reusing
    # one the server is closing would fail the request with a ReadError.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency,
                          keepalive_expiry=3)
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        async def one(i: int, teacher: Teacher) -> None:
            await asyncio.sleep(max(0.0, started + ramp * i / len(teachers)
                                    - time.perf_counter()))
            async with gate:
                await _teacher(client, run, teacher, base, slots,
                               random.Random(seed * 100_003 + i), rng.random() < 0.05)
        await asyncio.gather(*(one(i, t) for i, t in enumerate(teachers)))
    return run


def _start_server(bench: Settings, port: int, workers: int) -> subprocess.Popen:  # type: ignore[type-arg]
    env = dict(os.environ, KB_CONTENT_DIR=str(bench.content_dir),
               KB_DATA_DIR=str(bench.data_dir), KB_MODEL=bench.model,
               KB_EMBEDDER=bench.embedder, KB_MODEL_CACHE=str(bench.models_dir),
               HF_HUB_OFFLINE="1")
    return subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; main()", "serve", "--no-index",
         "--workers", str(workers), "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def run_signup_bench(settings: Settings, teachers: int = 1500, within: float = 120,
                     ramp: float = 60, workers: int = 2, concurrency: int = 64,
                     seed: int = 18, workdir: Path | None = None,
                     echo: Callable[[str], None] = print) -> dict[str, float]:
    """Set up, serve, drive and check; prints the figures and returns them."""
    with tempfile.TemporaryDirectory(prefix="kb-signup-") as tmp:
        work = workdir or Path(tmp)
        bench, programme = prepare(settings, work, teachers)
        store = open_state(bench.state_path)
        t0 = time.perf_counter()
        people, lead = make_accounts(store, teachers)
        echo(f"{teachers} accounts and sessions made in {time.perf_counter() - t0:.1f} s")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _start_server(bench, port, workers)
        try:
            _wait_ready(base, server)
            _open_signup(base, store, lead)
            echo(f"serving with {workers} workers; {teachers} teachers arrive over {ramp:.0f} s")
            t0 = time.perf_counter()
            run = asyncio.run(_drive(base, people, programme, ramp, concurrency, seed))
            took = time.perf_counter() - t0
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=60)
        problems = check(store, programme, people)
    figures = {"teachers": teachers, "signups": run.done, "requests": run.requests,
               "seconds": took, "signups_per_s": run.done / took,
               "requests_per_s": run.requests / took,
               "p50_ms": percentile(run.latencies, 50), "p95_ms": percentile(run.latencies, 95),
               "p99_ms": percentile(run.latencies, 99), "errors": len(run.errors),
               "inconsistencies": len(problems), "within_limit": float(took <= within)}
    for line in run.errors[:5] + problems[:5]:
        echo(f"  {line}")
    echo(f"finished in {took:.1f} s (limit {within:.0f} s: {'met' if took <= within else 'MISSED'})"
         f"; {run.requests} requests, {run.requests / took:.1f} requests/s, "
         f"{run.done / took:.1f} sign-ups/s")
    echo(f"latency of sign-up requests: p50 {figures['p50_ms']:.0f} ms, "
         f"p95 {figures['p95_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms")
    echo(f"signups {run.done}, errors {len(run.errors)}, inconsistencies {len(problems)}, "
         f"p95 {figures['p95_ms']:.0f} ms")
    return figures


def _wait_ready(base: str, server: subprocess.Popen) -> None:  # type: ignore[type-arg]
    started = time.perf_counter()
    while True:
        try:
            if httpx.get(f"{base}/api/programmes", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.perf_counter() - started > 180:
            raise RuntimeError("kb serve did not start")
        time.sleep(0.2)


def _open_signup(base: str, store: StateStore, lead: User) -> None:
    """The CPD lead opens sign-up through the API, as on the day."""
    token = start_session(store, lead, LoginPolicy())
    cookie = {"Cookie": f"kb_session={token}"}
    csrf = httpx.get(f"{base}/api/me", headers=cookie).json()["csrf_token"]
    httpx.post(f"{base}/api/programmes/{PROGRAMME}/signups/window", json={"status": "open"},
               headers={**cookie, "X-CSRF-Token": csrf}).raise_for_status()
