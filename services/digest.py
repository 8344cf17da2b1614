"""The weekly digest: for each person's followed searches, the write-ups that are new or
changed since their last digest, in one e-mail queued with the bookkeeping that it was sent."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from indexer.search.engine import SearchEngine, SearchQuery
from indexer.store import StoredDoc
from kb.content.directory import Directory
from kb.content.taxonomy import VOCABULARIES, Taxonomy
from kb.mail import outbox
from kb.mail.compose import Letter, build_message
from kb.settings import Settings
from kb.state.database import StateStore
from kb.state.follows import Follow, due_digests, mark_covered, revised_since

MAX_PER_SEARCH = 10


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
                 directory: Directory, settings: Settings, now: float | None = None
                 ) -> DigestReport:
    """Queue a digest for everyone whose followed searches are due (weekly)."""
    now = time.time() if now is None else now
    people = due_digests(store, now)
    queued = 0
    for person in people:
        paragraphs: list[str] = []
        links: list[tuple[str, str]] = []
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
            paragraphs.append(f"{words}: {len(docs)} new or updated")
            links += [(f"{d.title} ({d.date})", f"{settings.site_url}/practice/{d.slug}")
                      for d in docs]
            links.append((f"All results for {words}",
                          search_link(settings.site_url, follow)))
        with store.write() as conn:
            if paragraphs:
                letter = Letter(to=person.email, to_name=person.name, kind="digest",
                                subject="New practice this week in the searches you follow",
                                paragraphs=tuple(paragraphs), extra_links=tuple(links),
                                unsubscribe=f"{settings.site_url}/account#notifications")
                outbox.enqueue(conn, build_message(letter, settings.mail_from), "digest")
                queued += 1
            mark_covered(conn, [f.id for f in person.follows], now)
    return DigestReport(len(people), queued)
