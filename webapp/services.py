"""What every request handler needs, created once per app: settings, engine and reference data."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from indexer.embedding import Embedder, create_embedder
from indexer.pipeline import index_content
from indexer.search import SearchEngine
from kb.directory import Directory
from kb.errors import KBError
from kb.library import load_reference
from kb.settings import Settings
from kb.taxonomy import Taxonomy

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: SearchEngine
    taxonomy: Taxonomy
    directory: Directory


def start_services(settings: Settings, embedder: Embedder | None = None,
                   update_index: bool = True) -> Services:
    """Load reference data and the model once; bring the index up to date if asked."""
    embedder = embedder or create_embedder(settings.model, settings.embedder,
                                           settings.data_dir)
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
    return Services(settings, engine, taxonomy, directory)
