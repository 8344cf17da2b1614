"""What every request handler needs, created once per app: settings, engine and reference data."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from indexer.embedders.base import Embedder

from indexer.embedders.factory import create_embedder
from indexer.pipeline import index_content
from indexer.search.engine import SearchEngine, SearchResults
from kb.state.searchlog import log_open, log_search, purge_search_log
from kb.content.directory import Directory
from kb.errors import KBError
from kb.content.library import load_reference
from kb.settings import Settings
from kb.state.database import StateStore, open_state
from kb.content.taxonomy import Taxonomy

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: SearchEngine
    taxonomy: Taxonomy
    directory: Directory
    state: StateStore
    log_purged: dt.date | None = None


def start_services(settings: Settings, embedder: Embedder | None = None,
                   update_index: bool = True) -> Services:
    """Load reference data and the model once; bring the index up to date if asked."""
    embedder = embedder or create_embedder(settings.model, settings.embedder,
                                           settings.models_dir)
    taxonomy, directory = load_reference(settings.content_dir)
    if update_index:
        try:
            library, report = index_content(settings, embedder, progress=False)
            for problem in library.errors:
                log.warning("skipped invalid write-up: %s", problem)
            log.info("index %s ready (%s)", report.generation, report.reason)
        except KBError as exc:  # keep serving the previous index
            log.error("index update failed, serving the previous index: %s", exc)
    engine = SearchEngine(settings.index_dir, embedder, max_query_chars=settings.max_query_chars)
    state = open_state(settings.state_path)  # accounts and submissions: not derived data
    return Services(settings, engine, taxonomy, directory, state)


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
    try:
        log_open(services.state, search_id, slug)
    except KBError as exc:
        log.warning("opened result not logged: %s", exc)
