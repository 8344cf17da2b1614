"""Index generations on disk: gen-NNNNNNNN folders, a CURRENT pointer and a manifest in each."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

GEN_RE = re.compile(r"^gen-(\d{8})$")
POINTER = "CURRENT"
MANIFEST = "manifest.json"
STORE = "search.db"
VECTORS = "vectors.faiss"


def current_generation(index_dir: Path) -> Path | None:
    """The folder CURRENT points at, or None when there is no usable pointer."""
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    if not GEN_RE.match(name) or not (index_dir / name).is_dir():
        return None
    return index_dir / name


def pointer_stamp(index_dir: Path) -> str:
    """A cheap value that changes whenever CURRENT is replaced (for reload checks)."""
    try:
        return (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return ""


def next_generation_number(index_dir: Path) -> int:
    numbers = [int(m.group(1)) for p in index_dir.iterdir()
               if (m := re.match(r"^gen-(\d{8})", p.name))]
    return max(numbers, default=0) + 1


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def publish_generation(index_dir: Path, work_dir: Path, number: int) -> Path:
    """Rename a finished build into place and point CURRENT at it atomically."""
    final = index_dir / f"gen-{number:08d}"
    os.replace(work_dir, final)
    tmp = index_dir / (POINTER + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(final.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / POINTER)
    _fsync_dir(index_dir)
    return final


def sweep_generations(index_dir: Path, keep: int = 2) -> None:
    """Remove unfinished builds and all but the newest `keep` finished generations."""
    current = current_generation(index_dir)
    finished = sorted(p for p in index_dir.iterdir() if GEN_RE.match(p.name))
    keep_set = set(finished[-keep:]) | ({current} if current else set())
    for path in index_dir.iterdir():
        if path.is_dir() and path.name.startswith("gen-") and path not in keep_set:
            shutil.rmtree(path, ignore_errors=True)


def read_manifest(gen_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((gen_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Only one build at a time per index folder (other builders wait)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
