"""The weekly digest: for each person's followed searches, the write-ups that are new or
changed since their last digest, in one e-mail queued with the bookkeeping that it was sent."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Callable

from indexer.search.engine import SearchEngine, SearchQuery
from indexer.store import StoredDoc
from kb.content.directory import Directory
from kb.content.library import load_reference
from kb.content.taxonomy import VOCABULARIES, Taxonomy
from kb.mail import outbox
from kb.mail.compose import Letter, build_message
from kb.settings import Settings
from kb.state import schedule
from kb.state.database import StateStore
from kb.state.follows import Follow, claim_covered, due_before, due_digests, revised_since
from kb.state.schedule import period_name, weekly_moment

MAX_PER_SEARCH = 10
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DigestReport:
    people: int
    queued: int  # people with something new (the others' searches are marked covered too)


def tag_label(taxonomy: Taxonomy, directory: Directory, field: str, value: str) -> str:
    """The words for a filter value: a term's label, a school's or family's name, a year."""
    if field in VOCABULARIES:
        return taxonomy.label(field, value)
    named = directory.schools.get(value) if field == "school" else \
        directory.families.get(value) if field == "family" else None
    return named.name if named else value


def describe(follow: Follow, taxonomy: Taxonomy, directory: Directory) -> str:
    """A followed search in words: “quizzes” in Mathematics, Retrieval practice."""
    labels = [tag_label(taxonomy, directory, field, value)
              for field, values in sorted(follow.filters.items()) for value in values]
    words = f"\u201c{follow.query}\u201d" if follow.query else "New write-ups"
    return words + (f" in {', '.join(labels)}" if labels else "")


def _matches(engine: SearchEngine, follow: Follow, since: float, revised: set[str]
             ) -> list[StoredDoc]:
    since_day = time.strftime("%Y-%m-%d", time.gmtime(since))
    if follow.query:
        docs = [h.doc for h in engine.search(SearchQuery(follow.query, follow.filters,
                                                         page_size=50)).hits]
    else:
        docs = engine.documents(follow.filters)
    return [d for d in docs if str(d.date) >= since_day or d.slug in revised][:MAX_PER_SEARCH]


def search_link(site: str, follow: Follow) -> str:
    from urllib.parse import urlencode

    from indexer.records import FILTER_PARAMS

    param_of = {field: param for param, field in FILTER_PARAMS.items()}
    pairs = [("q", follow.query)] if follow.query else []
    pairs += [(param_of.get(f, f), v) for f, values in sorted(follow.filters.items())
              for v in values]
    return f"{site}/search?{urlencode(pairs)}"


def send_digests(store: StateStore, engine: SearchEngine, taxonomy: Taxonomy,
                 directory: Directory, settings: Settings, now: float | None = None,
                 before: float | None = None) -> DigestReport:
    """Queue a digest for everyone whose followed searches were last covered before `before`
    (default: a week ago). Each search is claimed in the transaction that queues its digest,
    so two senders at once (the scheduler, `kb mail digest`) never send it twice."""
    now = time.time() if now is None else now
    before = due_before(now) if before is None else before
    people = due_digests(store, before)
    queued = 0
    for person in people:
        parts: list[tuple[int, str, list[tuple[str, str]]]] = []
        for follow in person.follows:
            # The revision log counts in whole seconds: start at the next one, so a write-up
            # published just before the last digest is not sent twice.
            since = math.ceil(follow.last_sent_at)
            revised = revised_since(store, time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                         time.gmtime(since)))
            docs = _matches(engine, follow, since, revised)
            if not docs:
                continue
            words = describe(follow, taxonomy, directory)
            links = [(f"{d.title} ({d.date})", f"{settings.site_url}/practice/{d.slug}")
                     for d in docs]
            links.append((f"All results for {words}", search_link(settings.site_url, follow)))
            parts.append((follow.id, f"{words}: {len(docs)} new or updated", links))
        with store.write() as conn:
            claimed = claim_covered(conn, [f.id for f in person.follows], before, now)
            parts = [part for part in parts if part[0] in claimed]
            if parts:
                letter = Letter(to=person.email, to_name=person.name, kind="digest",
                                subject="New practice this week in the searches you follow",
                                paragraphs=tuple(p[1] for p in parts),
                                extra_links=tuple(link for p in parts for link in p[2]),
                                unsubscribe=f"{settings.site_url}/account#notifications")
                outbox.enqueue(conn, build_message(letter, settings.mail_from), "digest")
                queued += 1
    return DigestReport(len(people), queued)


JOB = "weekly-digest"
LEASE = 3600.0  # a run takes seconds to minutes; a process that died is replaced after this
RETRY = 60.0  # after a run that failed


def digest_if_due(store: StateStore, settings: Settings,
                  open_search: Callable[[], tuple[SearchEngine, Taxonomy, Directory]],
                  now: float | None = None) -> DigestReport | None:
    """The weekly digest, when its moment (KB_DIGEST_DAY at KB_DIGEST_HOUR UTC) has passed and
    no process has run it for this week yet; None when not due. Safe to call from every
    process every few seconds: the database hands each week's run to one caller."""
    now = time.time() if now is None else now
    moment = weekly_moment(now, settings.digest_day, settings.digest_hour)
    period = period_name(moment)
    if not schedule.claim(store, JOB, period, now, LEASE):
        return None
    # Everyone covered less than six days before this week's moment waits for the next.
    before = moment - 6 * 86_400
    try:
        report = DigestReport(0, 0)
        if due_digests(store, before):  # the model loads only when someone is due
            engine, taxonomy, directory = open_search()
            report = send_digests(store, engine, taxonomy, directory, settings, now=now,
                                  before=before)
    except Exception:
        # E.g. `kb serve` still building the first index: try again in a minute (what was
        # queued stays queued, and those searches are covered, so nothing goes twice).
        schedule.release(store, JOB, period, now + RETRY)
        raise
    schedule.finish(store, JOB, period, time.time(),
                    f"{report.queued} digest(s) queued for {report.people} follower(s)")
    return report


SearchParts = Callable[[], tuple[SearchEngine, Taxonomy, Directory]]


def scheduled_digest(store: StateStore, settings: Settings,
                     open_search: SearchParts | None = None) -> Callable[[], None]:
    """For the sender thread of `kb serve`: a step that sends the weekly digest when due."""

    def load() -> tuple[SearchEngine, Taxonomy, Directory]:
        from services.runtime import open_engine

        taxonomy, directory = load_reference(settings.content_dir)
        return open_engine(settings), taxonomy, directory

    def step() -> None:
        report = digest_if_due(store, settings, open_search or load)
        if report is not None:
            log.info("weekly digest: %d queued for %d follower(s)", report.queued,
                     report.people)

    return step
