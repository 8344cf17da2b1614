"""The error family shared by every layer; each edge (CLI, web) translates these once."""

from __future__ import annotations

import errno
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path


class KBError(Exception):
    """Base class: the message says what failed, where, and what to do next."""


class NotFoundError(KBError):
    """A named thing (write-up, taxonomy term, page) does not exist."""


class BadInputError(KBError):
    """A parameter or form value is not acceptable; the message names it."""


class IndexUnavailableError(KBError):
    """The search index is missing or unreadable; run `kb index`."""


class AuthenticationError(KBError):
    """Sign-in failed or is needed; the message never says which part was wrong."""


class PermissionDeniedError(KBError):
    """The signed-in user's role or family does not allow this action."""


class ConflictError(KBError):
    """The action clashes with the current state (already reviewed, slug taken, changed since)."""


class StorageError(KBError):
    """The disk refused a write because it is full or read-only; nothing was saved."""

    def __init__(self, message: str, full: bool) -> None:
        super().__init__(message)
        self.full = full


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


LOW_SPACE = 1_000_000  # bytes free below which a vague I/O error is taken for a full disk


def storage_error(exc: BaseException, where: Path | None = None) -> StorageError | None:
    """The StorageError behind a failed write (SQLite's or the file system's), else None.

    SQLite often reports a full or read-only disk only as "disk I/O error"; given the folder
    it was writing to (`where`), the file system is asked which of the two it is.
    """
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, sqlite3.OperationalError):
        words = str(exc).lower()
        if "disk is full" in words:
            return StorageError(f"storage is full: {exc}", full=True)
        if "readonly database" in words or "read-only" in words:
            return StorageError(f"storage is read-only: {exc}", full=False)
        if where is not None and ("disk i/o error" in words or "unable to open" in words):
            return _ask_file_system(exc, where)
    if isinstance(exc, OSError) and exc.errno in _FULL + _READ_ONLY:
        full = exc.errno in _FULL
        return StorageError(f"storage is {'full' if full else 'read-only'}: {exc}", full=full)
    cause = exc.__cause__
    return storage_error(cause, where) if cause is not None and cause is not exc else None


def _ask_file_system(exc: BaseException, where: Path) -> StorageError | None:
    try:
        info = os.statvfs(where)
    except OSError:
        return None
    if info.f_flag & os.ST_RDONLY:
        return StorageError(f"storage is read-only: {exc} ({where})", full=False)
    if info.f_bavail * info.f_frsize < LOW_SPACE:
        return StorageError(f"storage is full: {exc} ({where})", full=True)
    return None


class TooManyRequestsError(KBError):
    """Too many attempts in a short time; retry_after says how many seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem, located by file, line and field."""

    path: str
    line: int
    field: str
    message: str
    level: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        field = f" [{self.field}]" if self.field else ""
        tag = "" if self.level == "error" else f" ({self.level})"
        return f"{where}:{field}{tag} {self.message}"


class ValidationError(KBError):
    """One or more problems in content files."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
