"""What every request handler needs, created once per app: settings, engine and reference data."""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import logging
import os
from dataclasses import dataclass, field

from indexer.embedders.base import Embedder
from indexer.embedders.factory import create_embedder
from indexer.generations import sweep_interrupted
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
    # Words of collections' materials by (path, size, mtime); see services.materials.
    material_words: dict[tuple[str, int, int], frozenset[str]] = field(
        default_factory=dict)


M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def limit_malloc_arenas(count: int = 2) -> bool:
    """Cap glibc's malloc arenas for this process (True when applied).

    By default glibc gives threads up to 8 arenas per core. The server's 40 request threads
    then each grow an arena, and the memory freed in one is not reused by another: a soak
    test saw resident memory climb with the number of busy threads. Two arenas bound that;
    the check run after it answered no slower (on a noisy machine). MALLOC_ARENA_MAX, if set,
    wins. Call it
    before threads start; elsewhere than glibc it does nothing.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, count))


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
    # Leftovers of a build killed mid-way go now, unless a build (another process) is running.
    swept = sweep_interrupted(settings.index_dir)
    if swept:
        log.info("removed leftovers of interrupted index builds: %s", ", ".join(swept))
    if update_index:
        try:
            library, report = index_content(settings, embedder, progress=False)
            for problem in library.errors:
                log.warning("skipped invalid write-up: %s", problem)
            for material in report.skipped_materials:
                log.warning("skipped attached file: %s", material)
            log.info("index %s ready (%s)", report.generation, report.reason)
        except KBError as exc:  # keep serving the previous index
            log.error("index update failed, serving the previous index: %s", exc)
    engine = open_engine(settings, embedder)
    state = open_state(settings.state_path)  # accounts and submissions: not derived data
    return Services(settings, engine, taxonomy, directory, state)
