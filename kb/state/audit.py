"""The audit log: who did what to which account, submission or write-up, and when."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kb.state.database import StateStore, now_iso


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str
    action: str
    target: str
    detail: str


def record(conn: sqlite3.Connection, actor: str, action: str, target: str,
           detail: str = "") -> None:
    """Add one entry inside the caller's write transaction (so it commits with the change)."""
    conn.execute("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?,?,?,?,?)",
                 (now_iso(), actor, action, target, detail[:2000]))


def entries(store: StateStore, *, target: str | None = None, limit: int = 200
            ) -> list[AuditEntry]:
    """The newest entries first, optionally only those about one target."""
    with store.read() as conn:
        if target is None:
            rows = conn.execute("SELECT at, actor, action, target, detail FROM audit_log "
                                "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        else:
            rows = conn.execute("SELECT at, actor, action, target, detail FROM audit_log "
                                "WHERE target=? ORDER BY id DESC LIMIT ?",
                                (target, limit)).fetchall()
    return [AuditEntry(*row) for row in rows]
