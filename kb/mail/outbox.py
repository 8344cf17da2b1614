"""The outbox table: messages queued inside the transaction that caused them, claimed one at a
time by a sender, marked sent, or retried later with back-off."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP

from kb.state.database import StateStore, now_iso

MAX_ATTEMPTS = 8
FIRST_DELAY = 60.0  # seconds before the first retry; doubled each time
MAX_DELAY = 6 * 3600.0


@dataclass(frozen=True)
class Outgoing:
    """A claimed message: the exact bytes to send, to whom, and which attempt this is."""

    id: int
    message_id: str
    recipient: str
    kind: str
    data: bytes
    attempts: int


@dataclass(frozen=True)
class QueuedMessage:
    id: int
    recipient: str
    kind: str
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: str
    sent_at: str


def enqueue(conn: sqlite3.Connection, msg: EmailMessage, kind: str) -> int:
    """Queue a built message in the caller's write transaction: it is sent only if the change
    that caused it commits, and never lost if it does."""
    cur = conn.execute(
        "INSERT INTO outbox (message_id, recipient, kind, subject, message, status, "
        "next_attempt_at, created_at) VALUES (?,?,?,?,?, 'queued', ?, ?)",
        (str(msg["Message-ID"]), msg["To"].addresses[0].addr_spec, kind, str(msg["Subject"]),
         msg.as_bytes(policy=SMTP), time.time(), now_iso()))
    return int(cur.lastrowid or 0)


def claim(store: StateStore, now: float, lease: float) -> Outgoing | None:
    """Take the oldest due message for `lease` seconds (a sender that dies holding it leaves
    it to be sent again when the lease runs out; one that marks it sent never does)."""
    with store.write() as conn:
        row = conn.execute(
            "UPDATE outbox SET claimed_until=?, attempts=attempts+1 WHERE id=(SELECT id FROM "
            "outbox WHERE status='queued' AND next_attempt_at<=? AND claimed_until<=? "
            "ORDER BY next_attempt_at, id LIMIT 1) "
            "RETURNING id, message_id, recipient, kind, message, attempts",
            (now + lease, now, now)).fetchone()
    return Outgoing(*row) if row else None


# Messages carrying a sign-in link: once delivered their text is dropped, so the database
# never holds a usable link longer than it must (the tokens themselves are stored hashed).
SECRET_KINDS = ("invitation", "password-reset")


def mark_sent(store: StateStore, item: Outgoing) -> None:
    with store.write() as conn:
        conn.execute("UPDATE outbox SET status='sent', sent_at=?, claimed_until=0, "
                     "last_error='', message=CASE WHEN kind IN (?, ?) THEN x'' ELSE message "
                     "END WHERE id=?", (now_iso(), *SECRET_KINDS, item.id))


def retry_delay(attempts: int) -> float:
    """Back-off after the n-th failed attempt: 1, 2, 4 ... minutes, at most six hours."""
    return min(FIRST_DELAY * 2 ** max(0, attempts - 1), MAX_DELAY)


def mark_failed(store: StateStore, item: Outgoing, error: str, now: float,
                permanent: bool) -> str:
    """Record a failed attempt: retried later with back-off, or given up ('failed') when the
    server refused for good or the attempts ran out. Returns the new status."""
    status = "failed" if permanent or item.attempts >= MAX_ATTEMPTS else "queued"
    with store.write() as conn:
        conn.execute("UPDATE outbox SET status=?, next_attempt_at=?, claimed_until=0, "
                     "last_error=? WHERE id=?",
                     (status, now + retry_delay(item.attempts), error[:500], item.id))
    return status


def messages(store: StateStore, status: str | None = None, limit: int = 100
             ) -> list[QueuedMessage]:
    """Queued, sent and failed messages, newest first."""
    sql = ("SELECT id, recipient, kind, subject, status, attempts, last_error, created_at, "
           "sent_at FROM outbox")
    params: tuple = ()  # type: ignore[type-arg]
    if status:
        sql, params = sql + " WHERE status=?", (status,)
    with store.read() as conn:
        rows = conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
    return [QueuedMessage(*row) for row in rows]
