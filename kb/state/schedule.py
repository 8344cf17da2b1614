"""Jobs on a timetable (the weekly digest): which period is due, and a claim on it taken in
a write transaction, so that however many processes ask, one runs each period's job."""

from __future__ import annotations

import time
from dataclasses import dataclass

from kb.state.database import StateStore

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def weekly_moment(now: float, weekday: str, hour: int) -> float:
    """The latest `weekday` at `hour`:00 UTC not after `now` (a Unix time)."""
    day_start = now - now % 86_400
    today = time.gmtime(now).tm_wday  # Monday is 0
    moment = day_start - ((today - WEEKDAYS.index(weekday)) % 7) * 86_400 + hour * 3600
    return moment if moment <= now else moment - 7 * 86_400


def period_name(moment: float) -> str:
    """A period's name in the table: its due moment, e.g. 2026-12-07T07:00Z."""
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(moment))


@dataclass(frozen=True)
class Run:
    job: str
    period: str
    done_at: float | None
    summary: str


def claim(store: StateStore, job: str, period: str, now: float, lease: float) -> bool:
    """Take this period's run of `job` for `lease` seconds; False when it is done or another
    process holds it. A process that dies holding it leaves it to be taken again when the
    lease runs out (so the job must be safe to run again: the digest is, per search)."""
    with store.write() as conn:
        row = conn.execute("SELECT done_at, claimed_until FROM scheduled_runs WHERE job=? AND "
                           "period=?", (job, period)).fetchone()
        if row is not None and (row[0] is not None or row[1] > now):
            return False
        conn.execute("INSERT INTO scheduled_runs (job, period, claimed_until) VALUES (?,?,?) "
                     "ON CONFLICT (job, period) DO UPDATE SET claimed_until=excluded."
                     "claimed_until", (job, period, now + lease))
    return True


def release(store: StateStore, job: str, period: str, retry_at: float) -> None:
    """A run that failed (the index not built yet, say): free it from `retry_at` on, sooner
    than its lease would."""
    with store.write() as conn:
        conn.execute("UPDATE scheduled_runs SET claimed_until=? WHERE job=? AND period=? AND "
                     "done_at IS NULL", (retry_at, job, period))


def finish(store: StateStore, job: str, period: str, now: float, summary: str) -> None:
    """Mark this period's run done, with a line saying what it did."""
    with store.write() as conn:
        conn.execute("UPDATE scheduled_runs SET done_at=?, summary=? WHERE job=? AND period=?",
                     (now, summary[:500], job, period))


def runs(store: StateStore, job: str, limit: int = 20) -> list[Run]:
    """The latest runs of a job, newest first."""
    with store.read() as conn:
        rows = conn.execute("SELECT job, period, done_at, summary FROM scheduled_runs WHERE "
                            "job=? ORDER BY period DESC LIMIT ?", (job, limit)).fetchall()
    return [Run(*row) for row in rows]
