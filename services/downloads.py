"""The open download of the library (a zip and a JSON Lines file), built from content/ and
kept until the index moves to a new generation (an approval or `kb index`)."""

from __future__ import annotations

import threading
from typing import Callable

from kb.content.export import library_jsonl, library_zip
from kb.content.library import load_library
from services.runtime import Services

_lock = threading.Lock()


def _cached(services: Services, kind: str, build: Callable[[], bytes]) -> bytes:
    # One entry per kind, keyed by the index generation, kept on the services object so two
    # apps in one process never share it.
    cache = services.downloads
    generation = services.engine.generation or ""
    with _lock:
        held = cache.get(kind)
        if held and held[0] == generation:
            return held[1]
    data = build()
    with _lock:
        cache[kind] = (generation, data)
    return data


def library_archive(services: Services) -> bytes:
    """Every published write-up's Markdown file, writeups.jsonl and the licence notice."""
    def build() -> bytes:
        return library_zip(load_library(services.settings), services.settings.practice_dir)
    return _cached(services, "zip", build)


def library_lines(services: Services) -> bytes:
    """Every published write-up as JSON Lines, with its tags."""
    def build() -> bytes:
        return library_jsonl(load_library(services.settings)).encode("utf-8")
    return _cached(services, "jsonl", build)


def published_count(services: Services) -> int:
    return len(services.engine.documents())
