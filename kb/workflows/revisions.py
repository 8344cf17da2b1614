"""Revision history of published write-ups: every version that was live, and restoring one."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from kb.content.documents import ParseResult
from kb.errors import BadInputError, NotFoundError, PermissionDeniedError
from kb.state import audit
from kb.state.accounts import MODERATOR_ROLES, User
from kb.state.database import StateStore, now_iso
from kb.workflows.contribution import describe_change
from kb.workflows.publishing import (
    content_hash,
    practice_path,
    read_current,
    remove_file,
    write_atomic,
)

Checker = Callable[[str, str], ParseResult]
OUTSIDE_AUTHOR = "library files"


@dataclass(frozen=True)
class Revision:
    """One version of a write-up as it was published."""

    slug: str
    number: int
    text: str
    content_hash: str
    author: str
    approved_by: str
    summary: str
    created_at: str
    submission_id: int | None


_COLUMNS = ("slug, number, text, content_hash, author, approved_by, summary, created_at, "
            "submission_id")


def history(store: StateStore, slug: str) -> list[Revision]:
    """Every recorded version of a write-up, newest first."""
    with store.read() as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM revisions WHERE slug=? "
                            "ORDER BY number DESC", (slug,)).fetchall()
    return [Revision(*row) for row in rows]


def get_revision(store: StateStore, slug: str, number: int) -> Revision:
    with store.read() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM revisions WHERE slug=? AND number=?",
                           (slug, number)).fetchone()
    if row is None:
        raise NotFoundError(f"write-up {slug!r} has no revision {number}")
    return Revision(*row)


def _latest(conn: sqlite3.Connection, slug: str) -> tuple[int, str, str]:
    row = conn.execute("SELECT number, content_hash, text FROM revisions WHERE slug=? "
                       "ORDER BY number DESC LIMIT 1", (slug,)).fetchone()
    return (row[0], row[1], row[2]) if row else (0, "", "")


def first_approvals(store: StateStore) -> dict[str, str]:
    """When each write-up was first approved by a moderator (slug -> ISO time); write-ups
    that arrived as files, never through review, are absent."""
    with store.read() as conn:
        return {row[0]: row[1] for row in conn.execute(
            "SELECT slug, min(created_at) FROM revisions WHERE approved_by != '' "
            "GROUP BY slug")}


def add_revision(conn: sqlite3.Connection, slug: str, text: str, *, author: str,
                 approved_by: str, summary: str, submission_id: int | None = None) -> int:
    """Record a version inside the caller's transaction; returns its number."""
    number = _latest(conn, slug)[0] + 1
    conn.execute(f"INSERT INTO revisions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                 (slug, number, text, content_hash(text.encode("utf-8")), author, approved_by,
                  summary[:500], now_iso(), submission_id))
    return number


def keep_current(conn: sqlite3.Connection, slug: str, current: bytes | None) -> None:
    """Make sure the version on disk is in the history before it is replaced.

    A write-up that came with the library, or was changed in git since its last web
    revision, is recorded first, so no published version is ever lost.
    """
    if current is None:
        return
    number, digest, last_text = _latest(conn, slug)
    if digest == content_hash(current):
        return
    text = current.decode("utf-8", "replace")
    summary = ("version from the library files" if number == 0 else
               "changed outside the web app: " + describe_change(last_text, text))
    add_revision(conn, slug, text, author=OUTSIDE_AUTHOR, approved_by="", summary=summary)


@dataclass
class Publication:
    """Writes one file as part of a database transaction and undoes it if the commit fails."""

    path: Path
    previous: bytes | None = None
    written: bool = False

    def write(self, text: str) -> None:
        self.previous = read_current(self.path)
        write_atomic(self.path, text)
        self.written = True

    def undo(self) -> None:
        if not self.written:
            return
        if self.previous is None:
            remove_file(self.path)
        else:
            write_atomic(self.path, self.previous)


@contextlib.contextmanager
def publishing(store: StateStore, path: Path
               ) -> Iterator[tuple[sqlite3.Connection, Publication]]:
    """A write transaction plus a file publication that stand or fall together."""
    publication = Publication(path)
    try:
        with store.write() as conn:
            yield conn, publication
    except BaseException:
        publication.undo()
        raise


def restore(store: StateStore, moderator: User, practice_dir: Path, slug: str, number: int,
            check: Checker) -> int:
    """Publish an earlier revision again as a new revision; returns the new number."""
    if not moderator.has_role(*MODERATOR_ROLES):
        raise PermissionDeniedError("only moderators can restore a revision")
    old = get_revision(store, slug, number)
    result = check(slug, old.text)
    if result.document is None:
        reasons = "; ".join(str(p) for p in result.problems if p.level == "error")
        raise BadInputError(f"revision {number} no longer passes validation ({reasons}); "
                            "propose an edit instead")
    path = practice_path(practice_dir, slug)
    with publishing(store, path) as (conn, publication):
        current = read_current(path)
        if current is not None and content_hash(current) == old.content_hash:
            raise BadInputError(f"revision {number} is already the published version")
        keep_current(conn, slug, current)
        new_number = add_revision(conn, slug, old.text, author=old.author,
                                  approved_by=moderator.name,
                                  summary=f"restored revision {number}")
        audit.record(conn, moderator.email, "revision.restore", f"practice:{slug}",
                     f"revision {number} -> {new_number}")
        publication.write(old.text)
    return new_number
