"""The weekly digest without cron: `kb serve`'s sender thread queues it when its moment
(KB_DIGEST_DAY at KB_DIGEST_HOUR UTC) has passed, once a week however many processes ask;
two senders racing give one digest per person. Through the real SMTP server."""

from __future__ import annotations

import calendar
import threading
import time
from typing import Any

import pytest
from support_accounts import Site
from test_joining_web import deliver, mailsite  # noqa: F401

import services.digest as digest
from kb.mail import outbox
from kb.mail.sender import FileTransport, start_sender_thread
from kb.state import schedule
from kb.state.follows import add_follow

FOLLOWERS = ("eve@example.org", "cara@example.org", "mod@example.org")
# Wednesday 9 December 2026, 12:00 UTC; that week's Monday 07:00 is the 7th.
WEDNESDAY = calendar.timegm((2026, 12, 9, 12, 0, 0))
MONDAY_7 = calendar.timegm((2026, 12, 7, 7, 0, 0))


def test_the_due_moment_is_the_latest_digest_day_and_hour() -> None:
    assert schedule.weekly_moment(WEDNESDAY, "monday", 7) == MONDAY_7
    assert schedule.weekly_moment(MONDAY_7, "monday", 7) == MONDAY_7
    assert schedule.weekly_moment(MONDAY_7 - 1, "monday", 7) == MONDAY_7 - 7 * 86_400
    assert schedule.weekly_moment(WEDNESDAY, "wednesday", 13) == MONDAY_7 - 5 * 86_400 + 6 * 3600
    assert schedule.period_name(MONDAY_7) == "2026-12-07T07:00Z"


def follow_english(site: Site, now: float) -> None:
    """Each follower follows English write-ups; the fixture library has some from any week
    (the follow's first digest covers what is new since a week before it was saved, and
    here that is all of them: the follows are backdated)."""
    for email in FOLLOWERS:
        add_follow(site.store, site.user(email), "", {"subjects": ("english",)},
                   now=now - 20 * 365 * 86_400)


def search_parts(site: Site) -> Any:
    services = site.app.state.services
    return lambda: (services.engine, services.taxonomy, services.directory)


def digests(site: Site) -> list[str]:
    return sorted(m.recipient for m in outbox.messages(site.store) if m.kind == "digest")


def test_racing_workers_send_one_digest_per_person_per_week(mailsite: Site) -> None:  # noqa: F811
    now = time.time()
    follow_english(mailsite, now)
    start = threading.Barrier(4)
    results: list[Any] = []

    def worker() -> None:
        start.wait()
        results.append(digest.digest_if_due(mailsite.store, mailsite.settings,
                                            search_parts(mailsite), now=now))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    ran = [r for r in results if r is not None]
    assert len(results) == 4 and len(ran) == 1
    assert (ran[0].people, ran[0].queued) == (3, 3)
    assert digests(mailsite) == sorted(FOLLOWERS)
    # Later the same week: nothing; the next week's moment: due again (nothing new: no e-mail).
    assert digest.digest_if_due(mailsite.store, mailsite.settings, search_parts(mailsite),
                                now=now + 3600) is None
    (run,) = schedule.runs(mailsite.store, digest.JOB)
    assert run.done_at and run.summary == "3 digest(s) queued for 3 follower(s)"
    next_week = digest.digest_if_due(mailsite.store, mailsite.settings, search_parts(mailsite),
                                     now=now + 7 * 86_400)
    assert next_week is not None and next_week.queued == 0
    assert len(digests(mailsite)) == 3


def test_two_senders_past_the_schedule_still_claim_each_search_once(
        mailsite: Site, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """`kb mail digest` by hand while the scheduler runs: both have read who is due before
    either writes (a barrier holds them there); the database gives each search to one."""
    now = time.time()
    follow_english(mailsite, now)
    both_read = threading.Barrier(2, timeout=60)
    original = digest._matches

    waited: set[int] = set()

    def racing(engine: Any, follow: Any, since: float, revised: set[str]) -> Any:
        if threading.get_ident() not in waited:  # each thread's first search
            waited.add(threading.get_ident())
            both_read.wait()  # both threads are past due_digests, neither has claimed
        return original(engine, follow, since, revised)

    monkeypatch.setattr(digest, "_matches", racing)
    engine, taxonomy, directory = search_parts(mailsite)()
    reports: list[Any] = []

    def sender() -> None:
        reports.append(digest.send_digests(mailsite.store, engine, taxonomy, directory,
                                           mailsite.settings, now=now))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(reports) == 2 and all(r.people == 3 for r in reports)  # both saw everyone due
    assert sum(r.queued for r in reports) == 3
    assert digests(mailsite) == sorted(FOLLOWERS)


def test_the_serve_sender_thread_sends_the_digest_when_due(mailsite: Site) -> None:  # noqa: F811
    follow_english(mailsite, time.time())
    outbox_dir = mailsite.settings.data_dir / "thread-outbox"
    stop = start_sender_thread(mailsite.store, lambda: FileTransport(outbox_dir), interval=0.2,
                               first=digest.scheduled_digest(mailsite.store, mailsite.settings,
                                                             search_parts(mailsite)))
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(list(outbox_dir.glob("*-digest.eml"))) < 3:
            time.sleep(0.2)
        time.sleep(1)  # a few more rounds: the week's run is not repeated
    finally:
        stop.set()
    assert len(list(outbox_dir.glob("*-digest.eml"))) == 3
    assert len(schedule.runs(mailsite.store, digest.JOB)) == 1
    assert digests(mailsite) == sorted(FOLLOWERS)


def test_a_run_whose_process_died_is_taken_again_after_its_lease(mailsite: Site) -> None:  # noqa: F811
    period = schedule.period_name(MONDAY_7)
    assert schedule.claim(mailsite.store, "job", period, WEDNESDAY, lease=60)
    assert not schedule.claim(mailsite.store, "job", period, WEDNESDAY + 59, lease=60)
    assert schedule.claim(mailsite.store, "job", period, WEDNESDAY + 61, lease=60)
    schedule.finish(mailsite.store, "job", period, WEDNESDAY + 62, "done")
    assert not schedule.claim(mailsite.store, "job", period, WEDNESDAY + 10_000, lease=60)


def test_a_run_that_fails_is_tried_again_a_minute_later(mailsite: Site) -> None:  # noqa: F811
    """`kb serve` starts its sender thread before the first index exists: the week's run
    fails, and is retried in a minute rather than after its hour-long lease."""
    now = time.time()
    follow_english(mailsite, now)

    def no_index_yet() -> Any:
        from kb.errors import IndexUnavailableError
        raise IndexUnavailableError("no search index yet; run `kb index`")

    with pytest.raises(Exception, match="no search index"):
        digest.digest_if_due(mailsite.store, mailsite.settings, no_index_yet, now=now)
    assert digest.digest_if_due(mailsite.store, mailsite.settings, search_parts(mailsite),
                                now=now + 30) is None  # not yet
    report = digest.digest_if_due(mailsite.store, mailsite.settings, search_parts(mailsite),
                                  now=now + digest.RETRY + 1)
    assert report is not None and report.queued == 3
