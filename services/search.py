"""Searching the library and logging the search: the use case behind /search, /api/search and
the "which result was opened" link (the engine is indexer's; the log is kb's)."""

from __future__ import annotations

import datetime as dt
import logging

from indexer.search.engine import SearchQuery, SearchResults
from kb.errors import KBError
from kb.state.searchlog import log_open, log_search, new_search_id, purge_search_log
from services.runtime import Services

log = logging.getLogger(__name__)


def run_search(services: Services, query: SearchQuery) -> tuple[SearchResults, str]:
    """Run a search; the id is for logging it (and the results' links) when it is a new search
    with words in it, '' when it is not worth logging (a page turned, filters alone)."""
    results = services.engine.search(query)
    return results, new_search_id() if query.text and query.page == 1 else ""


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
