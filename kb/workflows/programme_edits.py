"""Saving a curator's change to a programme file: under the folder lock and in one database
transaction, check it against the sign-ups the database holds, keep the file's versions in
the revision history, audit it, and replace the file atomically (undone if the commit fails).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from kb.curation.editing import locked
from kb.curation.programme import Programme
from kb.curation.programme_editing import PreparedEdit, ProgrammeEditor, ProgrammeRefused
from kb.errors import Problem
from kb.state import audit
from kb.state.accounts import User
from kb.state.database import StateStore
from kb.workflows.publishing import content_hash
from kb.workflows.revisions import OUTSIDE_AUTHOR, Revision, add_revision, history, publishing
from kb.workflows.signup import capacity_of, supersede, window_in


def revision_key(slug: str) -> str:
    """Programmes share the revision history with write-ups under names no write-up can
    have (write-up slugs hold neither a slash nor a dot)."""
    return f"programmes/{slug}.yaml"


def programme_history(store: StateStore, slug: str) -> list[Revision]:
    """Every saved version of a programme file, newest first."""
    return history(store, revision_key(slug))


def signup_problems(conn: sqlite3.Connection, programme: Programme, focus: str,
                    field: str) -> list[Problem]:
    """What the new version would break for teachers already signed up: a session they hold
    places in (or queue for) gone, or its room now smaller than the places taken."""
    rows = conn.execute("SELECT slot, strand, sum(status='placed'), sum(status='waiting') "
                        "FROM signups WHERE programme=? GROUP BY slot, strand",
                        (programme.slug,)).fetchall()
    where = f"{focus}.{field}" if focus else field
    problems = []
    for slot, strand, placed, waiting in rows:
        found = next((s for s in programme.slots if s.start == slot and s.sessions), None)
        session = found.session_for(strand) if found else None
        people = _people(placed, waiting)
        if session is None:
            problems.append(Problem(programme.path, 0, where, (
                f"{people} for the {strand} session at {slot}, so it must stay in this slot; "
                "move them to other sessions on the sign-up page first")))
            continue
        capacity = capacity_of(programme, session)
        if capacity is not None and capacity < placed:
            problems.append(Problem(programme.path, 0, where, (
                f"{placed} teachers have places in the {strand} session at {slot}, but "
                f"{programme.room_name(session.room)} would seat {capacity}; give it at "
                f"least {placed} seats or a bigger room")))
    if programme.status == "draft" and window_in(conn, programme.slug).status != "not opened":
        problems.append(Problem(programme.path, 0, where, (
            "sign-up has been opened for this programme, so it cannot go back to draft")))
    return problems


def _people(placed: int, waiting: int) -> str:
    parts = [f"{placed} teacher{'s' if placed != 1 else ''} signed up"] if placed else []
    if waiting:
        parts.append(f"{waiting} waiting")
    return " and ".join(parts) or "teachers signed up"


def save_edit(store: StateStore, editor: ProgrammeEditor, user: User, slug: str, action: str,
              detail: str, prepare: Callable[[ProgrammeEditor], PreparedEdit],
              field: str = "form") -> PreparedEdit:
    """Prepare and check one change, then write it with its revision and audit entry; a
    refused change raises ProgrammeRefused and writes nothing. `field` is the form field
    that sign-up problems are shown beside."""
    with locked(editor.dir):
        edit = prepare(editor)
        with publishing(store, edit.path) as (conn, publication):
            problems = signup_problems(conn, edit.programme, edit.focus, field)
            if problems:
                raise ProgrammeRefused("the change was not saved: " +
                                       "; ".join(p.message for p in problems), problems,
                                       edit.focus)
            key = revision_key(slug)
            _keep_file_version(conn, key, edit.before)
            add_revision(conn, key, edit.text, author=user.email, approved_by=user.email,
                         summary=detail)
            audit.record(conn, user.email, f"programme.{action}", f"programme:{slug}", detail)
            if edit.before is not None:
                supersede(conn, slug, content_hash(edit.before),
                          content_hash(edit.text.encode("utf-8")))
            publication.write(edit.text)
    return edit


def _keep_file_version(conn: sqlite3.Connection, key: str, before: bytes | None) -> None:
    """Record the file as it is before the first web edit, or after a change made outside
    the web app, so every version stays in the history."""
    if before is None:
        return
    row = conn.execute("SELECT content_hash FROM revisions WHERE slug=? ORDER BY number DESC "
                       "LIMIT 1", (key,)).fetchone()
    if row is not None and row[0] == content_hash(before):
        return
    add_revision(conn, key, before.decode("utf-8", "replace"), author=OUTSIDE_AUTHOR,
                 approved_by="", summary="the file as it was before this edit" if row is None
                 else "changed in the file, outside the web app")
