"""Owner-only files and folders: the data folder, the application database and its backups
hold password hashes and unpublished work, so other local users may not read them."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def make_private_dir(path: Path) -> None:
    """Create `path` and any missing parents as owner-only folders; existing ones are left."""
    missing = []
    for folder in [path, *path.parents]:
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # another process made it meanwhile
            continue
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is filtered by the umask


def create_private_file(path: Path) -> None:
    """Create an empty owner-only file unless one exists (SQLite then fills it and gives its
    -wal and -shm files the same permissions)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
    except FileExistsError:
        pass


def restrict_database(path: Path) -> None:
    """Make an existing SQLite database and its side files owner-only (older installs)."""
    for candidate in [path, *(path.with_name(path.name + s) for s in SQLITE_SIDE_FILES)]:
        try:
            if candidate.stat().st_mode & 0o077:
                os.chmod(candidate, PRIVATE_FILE)
        except (FileNotFoundError, PermissionError):
            continue
