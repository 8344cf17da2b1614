"""Administration use cases the web pages share with the CLI: reading the audit log a page at
a time (the account changes themselves are kb.state.accounts functions, as `kb user` uses)."""

from __future__ import annotations

from kb.state import audit
from kb.state.database import StateStore

PER_PAGE = 50


def read_log(store: StateStore, *, actor: str = "", action: str = "", target: str = "",
             page: int = 1) -> audit.AuditPage:
    """One page of the audit log, newest first, narrowed by actor, action and target."""
    return audit.search(store, actor=actor, action=action, target=target, page=page,
                        per_page=PER_PAGE)
