"""What every request handler needs, created once per app: settings, engine and reference data."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from indexer.embedders.base import Embedder
from indexer.embedders.factory import create_embedder
from indexer.pipeline import index_content
from indexer.search.engine import SearchEngine
from kb.content.directory import Directory
from kb.content.library import load_reference
from kb.content.taxonomy import Taxonomy
from kb.errors import KBError
from kb.settings import Settings
from kb.state.database import StateStore, open_state

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: SearchEngine
    taxonomy: Taxonomy
    directory: Directory
    state: StateStore
    log_purged: dt.date | None = None
    # Built library downloads, by kind: (index generation, bytes); see services.downloads.
    downloads: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def load_embedder(settings: Settings) -> Embedder:
    """The configured embedding model (loaded once per process by whoever calls this)."""
    return create_embedder(settings.model, settings.embedder, settings.models_dir)


def open_engine(settings: Settings, embedder: Embedder | None = None) -> SearchEngine:
    """The search engine over the current index generation, with the configured model."""
    return SearchEngine(settings.index_dir, embedder or load_embedder(settings),
                        max_query_chars=settings.max_query_chars)


def start_services(settings: Settings, embedder: Embedder | None = None,
                   update_index: bool = True) -> Services:
    """Load reference data and the model once; bring the index up to date if asked."""
    embedder = embedder or load_embedder(settings)
    taxonomy, directory = load_reference(settings.content_dir)
    if update_index:
        try:
            library, report = index_content(settings, embedder, progress=False)
            for problem in library.errors:
                log.warning("skipped invalid write-up: %s", problem)
            log.info("index %s ready (%s)", report.generation, report.reason)
        except KBError as exc:  # keep serving the previous index
            log.error("index update failed, serving the previous index: %s", exc)
    engine = open_engine(settings, embedder)
    state = open_state(settings.state_path)  # accounts and submissions: not derived data
    return Services(settings, engine, taxonomy, directory, state)
