"""The text of a write-up's attached files for indexing, kept in a cache by content digest so
a rebuild (every approval runs one) reads only new or changed files.

The cache is derived data: `<data dir>/material-text/<sha256 of the file>.txt`, safe to delete.
A file that cannot be used is reported with its path and reason and left out; its failure is
not cached, so a fixed copy is picked up at once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kb.content.extract import extract_text
from kb.content.filecheck import check_file
from kb.curation.materials import list_materials, read_material
from kb.errors import KBError
from kb.settings import Settings

CACHE_DIR = "material-text"


def cache_dir(settings: Settings) -> Path:
    return settings.data_dir / CACHE_DIR


def attachments_of(settings: Settings, slug: str, skipped: list[str]
                   ) -> tuple[tuple[str, str], ...]:
    """(name, text) of a write-up's readable attached files, by name; a broken one is noted in
    `skipped` as 'path: reason' and left out, never stopping the build."""
    out = []
    for material in list_materials(settings.content_dir, "practice", slug):
        try:
            data = read_material(settings.content_dir, material)
            text = _cached_text(settings, material.name, data)
        except (KBError, OSError) as exc:
            skipped.append(f"{material.shown_path}: {exc}")
            continue
        if text.strip():
            out.append((material.name, text))
    return tuple(out)


def _cached_text(settings: Settings, name: str, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = cache_dir(settings) / f"{digest}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    kind = check_file(name, data, settings.max_material_bytes)
    text = extract_text(name, kind.key, data)
    try:  # a cache that cannot be written only costs time next build
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return text
