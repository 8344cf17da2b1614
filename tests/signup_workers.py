"""Functions run in spawned processes by the sign-up race test; they import only kb."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from kb.curation.programme import Programme
from kb.errors import ConflictError
from kb.state.accounts import User
from kb.state.database import StateStore
from kb.workflows import signup


def sign_up_many(path: str, programme: Programme, users: list[User], slot: str, strand: str,
                 results: multiprocessing.Queue, start: object) -> None:  # type: ignore[type-arg]
    """Each user signs up (joining the waiting list if full) twice, like a double click."""
    store = StateStore(Path(path))
    start.wait(60)  # type: ignore[attr-defined]
    for user in users:
        for _ in range(2):
            try:
                choice = signup.choose(store, user, programme, slot, strand, waitlist=True)
                results.put((user.id, choice.status))
            except ConflictError as exc:
                results.put((user.id, f"error: {exc}"))
