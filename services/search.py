"""Searching the library and logging the search: the use case behind /search, /api/search and
the "which result was opened" link (the engine is indexer's; the log is kb's)."""

from __future__ import annotations

import datetime as dt
import logging

from indexer.keyword import STOPWORDS, WORD_RE
from indexer.search.engine import SearchQuery, SearchResults
from kb.curation.catalogue import Curation
from kb.curation.collection import Collection
from kb.errors import KBError
from kb.state.searchlog import log_open, log_search, new_search_id, purge_search_log
from services.materials import collection_material_words
from services.runtime import Services

log = logging.getLogger(__name__)


def run_search(services: Services, query: SearchQuery) -> tuple[SearchResults, str]:
    """Run a search; the id is for logging it (and the results' links) when it is a new search
    with words in it, '' when it is not worth logging (a page turned, filters alone)."""
    results = services.engine.search(query)
    return results, new_search_id() if query.text and query.page == 1 else ""


MAX_COLLECTIONS = 3


def _query_words(results: SearchResults) -> set[str]:
    return {w.casefold() for w in WORD_RE.findall(results.searched)
            if len(w) > 2 and w.casefold() not in STOPWORDS}


def collections_by_material(services: Services, curation: Curation,
                            results: SearchResults) -> dict[str, str]:
    """Published collections with an attached file holding every word of the query, each
    with the first such file's name (the reason shown: "found in the attached file ...")."""
    words = _query_words(results)
    if results.query.page != 1 or not words:
        return {}
    published = {c.slug for c in curation.published_collections()}
    found = {}
    for slug, files in collection_material_words(services).items():
        if slug not in published:
            continue
        for name, held in files:
            if words <= held:
                found[slug] = name
                break
    return found


def matching_collections(curation: Curation, results: SearchResults,
                         by_material: dict[str, str] | None = None) -> list[Collection]:
    """Published collections to show beside a search's first page: those pinned to the query
    as best bets first, then those for a subject the query names or filters on, then those
    whose title and purpose hold every word of the query, then those whose attached files do
    (`by_material`, from collections_by_material). A curated session is often the best answer
    for a CPD lead."""
    if results.query.page != 1 or not results.query.text:
        return []
    published = {c.slug: c for c in curation.published_collections()}
    chosen = [published[slug] for kind, slug, _ in results.best_bets
              if kind == "collection" and slug in published]
    subjects = {term for field, term, _ in results.expanded if field == "subjects"}
    subjects |= set(results.query.filters.get("subjects", ()))
    words = _query_words(results)
    for collection in published.values():
        text = {w.casefold() for w in WORD_RE.findall(f"{collection.title} {collection.purpose}")}
        if collection in chosen:
            continue
        if set(collection.subjects) & subjects or (words and words <= text):
            chosen.append(collection)
    chosen += [published[slug] for slug in by_material or {}
               if slug in published and published[slug] not in chosen]
    return chosen[:MAX_COLLECTIONS]


def record_search(services: Services, results: SearchResults, search_id: str) -> None:
    """Log a search without personal data, and purge entries past retention once a day."""
    if not results.query.text:
        return
    top = results.confidence if results.total else None
    filters = {k: list(v) for k, v in results.query.filters.items()}
    try:
        log_search(services.state, results.query.text, filters, results.total,
                   round(top, 4) if top is not None else None, search_id=search_id)
        today = dt.date.today()
        if services.log_purged != today:
            purge_search_log(services.state, services.settings.search_log_days, today)
            services.log_purged = today
    except KBError as exc:  # logging must never break searching
        log.warning("search not logged: %s", exc)


def record_open(services: Services, search_id: str, slug: str) -> None:
    """Note which result of a logged search was opened (nothing about who opened it)."""
    try:
        log_open(services.state, search_id, slug)
    except KBError as exc:
        log.warning("opened result not logged: %s", exc)
