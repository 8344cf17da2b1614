"""Functions run in spawned worker processes by the concurrency tests; they import only kb,
so each process starts quickly."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from kb.content.library import load_reference
from kb.errors import ConflictError
from kb.settings import Settings
from kb.state.accounts import get_user
from kb.state.database import StateStore
from kb.workflows.contribution import check_text
from kb.workflows.submissions import Workflow


def write_rows(path: str, worker: int, transactions: int) -> None:
    """Read-then-write transactions, the pattern that fails when transactions are deferred."""
    store = StateStore(Path(path))
    for i in range(transactions):
        with store.write() as conn:
            count = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
            conn.execute("INSERT INTO audit_log (at, actor, action, target, detail) "
                         "VALUES ('t', ?, 'test', ?, ?)", (f"w{worker}", str(i), str(count)))


def approve(settings: Settings, submission_id: int, email: str,
            results: multiprocessing.Queue, start: object) -> None:  # type: ignore[type-arg]
    """Approve one submission as `email`; report 'published' or 'conflict'."""
    store = StateStore(settings.state_path)
    taxonomy, directory = load_reference(settings.content_dir)
    flow = Workflow(store, settings.practice_dir,
                    lambda slug, text: check_text(slug, text, taxonomy, directory, 256_000))
    moderator = get_user(store, email)
    start.wait(60)  # type: ignore[attr-defined]
    try:
        flow.approve(moderator, submission_id)
        results.put("published")
    except ConflictError:
        results.put("conflict")
