"""Index generations on disk: gen-NNNNNNNN folders, a CURRENT pointer and a manifest in each."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

from kb.state.permissions import make_private_dir

GEN_RE = re.compile(r"^gen-(\d{8})$")
POINTER = "CURRENT"
MANIFEST = "manifest.json"
STORE = "search.db"
VECTORS = "vectors.faiss"
CHECKED_FILES = (STORE, VECTORS)  # every index file whose sha256 the manifest records


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


def file_checksums(gen_dir: Path) -> dict[str, str]:
    """The sha256 of each index file of a generation, as recorded in its manifest."""
    sums = {}
    for name in CHECKED_FILES:
        with open(gen_dir / name, "rb") as handle:
            sums[name] = hashlib.file_digest(handle, "sha256").hexdigest()
    return sums


def damaged_files(gen_dir: Path, manifest: dict[str, Any]) -> dict[str, str]:
    """Index files whose bytes differ from the checksums in the manifest, with the reason.

    A manifest without checksums (built before they were recorded) reports nothing here;
    `pipeline.check_generation` treats it as needing a rebuild.
    """
    recorded = manifest.get("checksums")
    if not isinstance(recorded, dict):
        return {}
    damaged = {}
    for name in CHECKED_FILES:
        try:
            with open(gen_dir / name, "rb") as handle:
                actual = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            damaged[name] = f"cannot be read ({exc.strerror})"
            continue
        if actual != recorded.get(name):
            damaged[name] = "does not match the checksum in its manifest"
    return damaged


def finished_generations(index_dir: Path) -> list[Path]:
    """Published generation folders, oldest first."""
    return sorted(p for p in index_dir.iterdir() if GEN_RE.match(p.name) and p.is_dir())


def sweep_generations(index_dir: Path, keep: int = 2) -> None:
    """Remove unfinished builds and all but the newest `keep` finished generations."""
    current = current_generation(index_dir)
    finished = finished_generations(index_dir)
    keep_set = set(finished[-keep:]) | ({current} if current else set())
    for path in index_dir.iterdir():
        if path.is_dir() and path.name.startswith("gen-") and path not in keep_set:
            shutil.rmtree(path, ignore_errors=True)


def sweep_interrupted(index_dir: Path) -> list[str]:
    """Remove what interrupted builds left behind (`gen-*.building` folders, `*.tmp` files).

    Does nothing while another build holds the build lock: its folder is not abandoned.
    Returns the names removed.
    """
    if not index_dir.is_dir():
        return []
    with open(index_dir / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return []
        try:
            return _remove_leftovers(index_dir)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(index_dir: Path) -> list[str]:
    """Remove leftovers of interrupted builds; the caller holds the build lock."""
    removed = []
    for path in sorted(index_dir.iterdir()):
        if path.name.startswith("gen-") and path.name.endswith(".building") and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        elif path.name.endswith(".tmp") and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path.name)
    for gen_dir in finished_generations(index_dir):
        for path in gen_dir.glob("*.tmp"):
            path.unlink(missing_ok=True)
            removed.append(f"{gen_dir.name}/{path.name}")
    return removed


def read_manifest(gen_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((gen_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[list[str]]:
    """Only one build at a time per index folder (other builders wait).

    Once the lock is held, leftovers of interrupted builds are swept; their names are yielded.
    """
    make_private_dir(index_dir)  # the data folder, when this is the first thing to create it
    with open(index_dir / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield _remove_leftovers(index_dir)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
