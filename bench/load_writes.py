"""The writes inside `kb bench load`: a contributor submits write-ups and a moderator approves
them while the read load runs (reliability.md (c): 5 form submits and 1 approval a minute), and
at the end every acknowledged write is checked to be there."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from kb.content.library import load_reference
from kb.settings import Settings
from kb.state.accounts import add_user
from kb.state.database import open_state

MODERATOR = "load-moderator@example.org"
# A contributor may save 30 times an hour (the flood limit of reliability.md row 24), so the
# submissions are shared among several, as many teachers would send them.
SUBMISSIONS_PER_CONTRIBUTOR = 20
Record = Callable[[str, float | None], None]  # (class, milliseconds or None for a failure)


@dataclass
class Writers:
    """The two accounts the writes use, created in the served copy before it starts."""

    school: str
    family: str
    contributors: list[str] = field(default_factory=list)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))


@dataclass
class WriteLog:
    """What the server acknowledged, to be checked at the end."""

    submitted: dict[int, str] = field(default_factory=dict)  # submission id -> slug
    approved: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    def failed(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1


def create_writers(settings: Settings, submissions: int) -> Writers:
    """Contributors at the first school of the served copy (enough for `submissions` within
    the flood limit), and an admin to approve."""
    _, directory = load_reference(settings.content_dir)
    school = sorted(directory.schools.values(), key=lambda s: s.id)[0]
    writers = Writers(school=school.id, family=school.family)
    store = open_state(settings.state_path)
    for n in range(max(1, -(-submissions // SUBMISSIONS_PER_CONTRIBUTOR))):
        email = f"load-contributor-{n + 1}@example.org"
        add_user(store, directory, email, writers.password, "contributor", school=school.id,
                 name=f"Load contributor {n + 1}", actor="kb bench load")
        writers.contributors.append(email)
    add_user(store, directory, MODERATOR, writers.password, "admin", name="Load moderator",
             actor="kb bench load")
    store.release()
    return writers


def writeup(writers: Writers, number: int, run: str) -> tuple[str, str]:
    """A valid write-up (slug, Markdown) whose words make it findable afterwards."""
    slug = f"load-test-{run}-{number}"
    text = f"""---
title: "Load test write-up {run} {number}: shared reading of loadmarker{run}{number}"
summary: "A write-up sent by kb bench load to check that writes under load are kept."
school: {writers.school}
family: {writers.family}
authors: ["Load contributor"]
date: 2026-01-15
phase: secondary
key_stages: [ks3]
subjects: [english]
interventions: [reading-comprehension]
evidence:
  strength: emerging
  measure: "Reading ages of one class before and after a term."
status: published
---

## Context

Year 8 readers loadmarker{run}{number} lost the thread of longer texts.

## What we did

Each lesson began with ten minutes of shared reading and one question to discuss in pairs.

## Impact

Reading ages rose by eight months on average over the term.

## What we would change

Choose the texts with the English department so they build on each other.

## How to adopt it

Start with one class, keep the ten minutes fixed, and measure reading ages twice a year.
"""
    return slug, text


async def _sign_in(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await client.post("/api/login", json={"email": email, "password": password})
    response.raise_for_status()
    return str(response.json()["csrf_token"])


async def write_loop(base: str, writers: Writers, seconds: float, record: Record,
                     log: WriteLog, submits_per_minute: float = 5.0,
                     approvals_per_minute: float = 1.0) -> None:
    """Submit and approve at fixed rates for `seconds`; latency and failures go to `record`."""
    run = secrets.token_hex(3)
    authors = [httpx.AsyncClient(base_url=base, timeout=120) for _ in writers.contributors]
    async with httpx.AsyncClient(base_url=base, timeout=120) as moderator:
        tokens = [await _sign_in(a, e, writers.password)
                  for a, e in zip(authors, writers.contributors)]
        moderator_csrf = await _sign_in(moderator, MODERATOR, writers.password)
        start = time.perf_counter()
        # Submissions evenly spaced from the start; approvals likewise, half a period late so
        # there is always something of ours waiting.
        events = sorted(_times(seconds, submits_per_minute, 0.0, "submit")
                        + _times(seconds, approvals_per_minute, 0.5, "approve"))
        for number, (at, kind) in enumerate(events):
            await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
            began = time.perf_counter()
            if kind == "submit":
                who = len(log.submitted) % len(authors)
                ok = await _submit(authors[who], tokens[who], writers, number, run, log)
            else:
                ok = await _approve(moderator, moderator_csrf, log)
            record("writes", (time.perf_counter() - began) * 1000 if ok else None)
    for author in authors:
        await author.aclose()


def _times(seconds: float, per_minute: float, offset: float, kind: str
           ) -> list[tuple[float, str]]:
    if per_minute <= 0:
        return []
    period = 60 / per_minute
    count = int(seconds / period - offset) + 1
    return [(at, kind) for i in range(count) if (at := (i + offset) * period) < seconds]


async def _submit(client: httpx.AsyncClient, csrf: str, writers: Writers, number: int,
                  run: str, log: WriteLog) -> bool:
    slug, text = writeup(writers, number, run)
    body = {"markdown": text, "slug": slug, "submit": True,
            "idempotency_key": f"load-{run}-{number}"}
    try:
        response = await client.post("/api/submissions", json=body,
                                     headers={"X-CSRF-Token": csrf})
    except httpx.HTTPError as exc:
        log.failed(f"submit {type(exc).__name__}")
        return False
    if response.status_code != 201:
        log.failed(f"submit {response.status_code}")
        return False
    if problems := [p for p in response.json()["problems"] if p.get("level") == "error"]:
        log.failed(f"submit refused: {problems[0].get('message', problems[0])}")
        return False
    log.submitted[int(response.json()["submission"]["id"])] = slug
    return True


async def _approve(client: httpx.AsyncClient, csrf: str, log: WriteLog) -> bool:
    try:
        queue = (await client.get("/api/moderation")).json()
        ours = sorted(r["submission"]["id"] for r in queue
                      if r["submission"]["id"] in log.submitted)
        if not ours:
            log.failed("approve: nothing of ours was waiting")
            return False
        response = await client.post(f"/api/moderation/{ours[0]}/approve",
                                     json={"comment": ""}, headers={"X-CSRF-Token": csrf})
    except httpx.HTTPError as exc:
        log.failed(f"approve {type(exc).__name__}")
        return False
    if response.status_code != 200:
        log.failed(f"approve {response.status_code}")
        return False
    log.approved.append(log.submitted[ours[0]])
    return True


def check_writes(base: str, writers: Writers, log: WriteLog) -> list[str]:
    """Every acknowledged submission is still there and every approved write-up is published
    and found by search; the list of what is missing (empty when nothing was lost)."""
    missing: list[str] = []
    kept: set[int] = set()
    for email in writers.contributors:
        with httpx.Client(base_url=base, timeout=60) as client:
            client.post("/api/login", json={"email": email, "password": writers.password})
            kept |= {s["id"] for s in client.get("/api/submissions").json()}
    missing += [f"submission {i} ({slug})" for i, slug in log.submitted.items()
                if i not in kept]
    with httpx.Client(base_url=base, timeout=60) as client:
        for slug in log.approved:
            if client.get(f"/api/practices/{slug}").status_code != 200:
                missing.append(f"published write-up {slug}")
                continue
            marker = "loadmarker" + slug.removeprefix("load-test-").replace("-", "")
            found = client.get("/api/search", params={"q": marker}).json()["results"]
            if slug not in [r["slug"] for r in found[:3]]:
                missing.append(f"search for {marker} (did not find {slug})")
    return missing
