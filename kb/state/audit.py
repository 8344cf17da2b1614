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


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(store: StateStore, *, actor: str = "", action: str = "", target: str = "",
           page: int = 1, per_page: int = 50) -> AuditPage:
    """Entries newest first, narrowed by actor, action (a prefix, e.g. `user.`) and target
    (a prefix, e.g. `user:` or `practice:slug`), one page at a time."""
    where, params = [], []
    for column, value, prefix in (("actor", actor, False), ("action", action, True),
                                  ("target", target, True)):
        value = value.strip()[:200]
        if value:
            if prefix:
                where.append(f"substr({column}, 1, ?) = ?")
                params += [len(value), value]
            else:
                where.append(f"{column} = ?")
                params.append(value)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    page = max(1, page)
    with store.read() as conn:
        total = conn.execute(f"SELECT count(*) FROM audit_log{clause}", params).fetchone()[0]
        rows = conn.execute(f"SELECT at, actor, action, target, detail FROM audit_log{clause} "
                            "ORDER BY id DESC LIMIT ? OFFSET ?",
                            (*params, per_page, (page - 1) * per_page)).fetchall()
    return AuditPage([AuditEntry(*row) for row in rows], int(total), page, per_page)
