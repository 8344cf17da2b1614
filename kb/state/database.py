"""The application-state database (accounts, sessions, submissions, revisions, audit log)."""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from kb.errors import BadInputError, KBError, storage_error
from kb.state.permissions import create_private_file, make_private_dir, restrict_database

BUSY_TIMEOUT_MS = 10_000
# A long reader (an export, a backup) stops checkpoints from reaching the end of the WAL, so
# it grows under writes; SQLite never shrinks it again by itself. With this limit the WAL is
# cut back to this size the next time it restarts after the reader has gone.
WAL_LIMIT_BYTES = 4 * 1024 * 1024

# Each migration is a list of single statements, run in one BEGIN IMMEDIATE transaction
# together with the user_version bump, so a crash leaves the old schema or the new one.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN
                ('reader', 'contributor', 'moderator', 'curator', 'admin')),
            school TEXT NOT NULL DEFAULT '',
            family TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL)""",
        """CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL)""",
        "CREATE INDEX sessions_user ON sessions(user_id)",
        """CREATE TABLE attempts (
            key TEXT NOT NULL,
            at REAL NOT NULL)""",
        "CREATE INDEX attempts_key ON attempts(key, at)",
        """CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            kind TEXT NOT NULL CHECK (kind IN ('new', 'edit')),
            slug TEXT NOT NULL,
            text TEXT NOT NULL,
            base_hash TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN
                ('draft', 'pending', 'changes_requested', 'approved', 'rejected')),
            comment TEXT NOT NULL DEFAULT '',
            idempotency_key TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            submitted_at TEXT NOT NULL DEFAULT '',
            reviewed_by INTEGER REFERENCES users(id),
            reviewed_at TEXT NOT NULL DEFAULT '',
            UNIQUE (user_id, idempotency_key))""",
        "CREATE INDEX submissions_status ON submissions(status, submitted_at)",
        """CREATE TABLE revisions (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL,
            number INTEGER NOT NULL,
            text TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            author TEXT NOT NULL,
            approved_by TEXT NOT NULL DEFAULT '',
            submission_id INTEGER REFERENCES submissions(id),
            summary TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (slug, number))""",
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '')""",
    ],
    [  # 2: the search log (no personal data; see kb/state/searchlog.py)
        """CREATE TABLE search_log (
            id TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            query TEXT NOT NULL,
            filters TEXT NOT NULL,
            results INTEGER NOT NULL,
            top_score REAL,
            opened TEXT)""",
        """CREATE INDEX search_log_at ON search_log(at)""",
    ],
    [  # 3: school-to-school support requests (see kb/workflows/support.py)
        """CREATE TABLE support_requests (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL,
            school TEXT NOT NULL,
            family TEXT NOT NULL,
            requester_id INTEGER NOT NULL REFERENCES users(id),
            kind TEXT NOT NULL CHECK (kind IN ('visit', 'coaching', 'resources', 'training')),
            message TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN
                ('open', 'accepted', 'declined', 'completed')),
            reply TEXT NOT NULL DEFAULT '',
            responder_id INTEGER REFERENCES users(id),
            happened_on TEXT NOT NULL DEFAULT '',
            happened_note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        "CREATE INDEX support_school ON support_requests(school, status)",
        "CREATE INDEX support_slug ON support_requests(slug)",
    ],
    [  # 4: "we tried this too" transfer reports, moderated (see kb/workflows/transfer.py)
        """CREATE TABLE transfer_reports (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users(id),
            school TEXT NOT NULL,
            context TEXT NOT NULL,
            adapted TEXT NOT NULL,
            measured TEXT NOT NULL,
            result TEXT NOT NULL CHECK (result IN ('positive', 'mixed', 'none')),
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
            reason TEXT NOT NULL DEFAULT '',
            reviewed_by INTEGER REFERENCES users(id),
            reviewed_at TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL)""",
        "CREATE INDEX transfer_slug ON transfer_reports(slug, status)",
    ],
    [  # 5 (issue 17): the family-lead role, mail choices, the outbox, invitations, resets,
        # and followed searches for the weekly digest.
        # The users table is rebuilt to widen its role CHECK (SQLite cannot alter a CHECK);
        # migrate() turns foreign keys off around this step and checks them before commit.
        """CREATE TABLE users_new (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN
                ('reader', 'contributor', 'family-lead', 'moderator', 'curator', 'admin')),
            school TEXT NOT NULL DEFAULT '',
            family TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            mail_opt_out TEXT NOT NULL DEFAULT '')""",
        """INSERT INTO users_new (id, email, name, role, school, family, password_hash,
            disabled, created_at)
            SELECT id, email, name, role, school, family, password_hash, disabled, created_at
            FROM users""",
        "DROP TABLE users",
        "ALTER TABLE users_new RENAME TO users",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL UNIQUE,
            recipient TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            message BLOB NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            claimed_until REAL NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            sent_at TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX outbox_due ON outbox(status, next_attempt_at)",
        """CREATE TABLE invitations (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL COLLATE NOCASE,
            name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL,
            school TEXT NOT NULL DEFAULT '',
            family TEXT NOT NULL DEFAULT '',
            token_hash TEXT NOT NULL UNIQUE,
            invited_by TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            accepted_at REAL,
            revoked_at REAL,
            user_id INTEGER REFERENCES users(id))""",
        "CREATE INDEX invitations_email ON invitations(email)",
        """CREATE TABLE reset_tokens (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used_at REAL)""",
        "CREATE INDEX reset_tokens_user ON reset_tokens(user_id)",
        """CREATE TABLE follows (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            query TEXT NOT NULL DEFAULT '',
            filters TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            last_sent_at REAL NOT NULL,
            UNIQUE (user_id, query, filters))""",
    ],
    [  # 6 (issue 18): inset-day sign-up, waiting lists and feedback (kb/workflows/signup.py)
        """CREATE TABLE signup_windows (
            programme TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            deadline TEXT NOT NULL DEFAULT '',
            changed_by TEXT NOT NULL,
            changed_at TEXT NOT NULL)""",
        # One row per teacher per session chosen; at most one place and one waiting-list
        # entry per teacher and slot (the unique index), the order of waiting is id order.
        """CREATE TABLE signups (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            programme TEXT NOT NULL,
            slot TEXT NOT NULL,
            strand TEXT NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN ('placed', 'waiting')),
            created_at TEXT NOT NULL,
            promoted_at TEXT NOT NULL DEFAULT '')""",
        "CREATE UNIQUE INDEX signups_one ON signups(programme, slot, user_id, status)",
        "CREATE INDEX signups_session ON signups(programme, slot, strand, status, id)",
        """CREATE TABLE session_feedback (
            id INTEGER PRIMARY KEY,
            programme TEXT NOT NULL,
            slot TEXT NOT NULL,
            strand TEXT NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
            will_try TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            UNIQUE (programme, slot, strand, user_id))""",
    ],
    [  # 7 (issue 19): the challenge-lead role, school context and yearly indicators, each
        # school's improvement priorities and brokered pairings (kb/state/schooldata.py,
        # kb/workflows/priorities.py and pairings.py).
        # The users table is rebuilt to widen its role CHECK (kb.state.accounts.ROLES).
        """CREATE TABLE users_new (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN
                ('reader', 'contributor', 'family-lead', 'moderator', 'curator',
                 'challenge-lead', 'admin')),
            school TEXT NOT NULL DEFAULT '',
            family TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            mail_opt_out TEXT NOT NULL DEFAULT '')""",
        """INSERT INTO users_new (id, email, name, role, school, family, password_hash,
            disabled, created_at, mail_opt_out) SELECT id, email, name, role, school, family,
            password_hash, disabled, created_at, mail_opt_out FROM users""",
        "DROP TABLE users",
        "ALTER TABLE users_new RENAME TO users",
        """CREATE TABLE school_context (
            school TEXT PRIMARY KEY,
            pupils INTEGER NOT NULL,
            disadvantaged REAL NOT NULL,
            eal REAL NOT NULL,
            send REAL NOT NULL,
            setting TEXT NOT NULL CHECK (setting IN ('rural', 'urban')),
            inspection TEXT NOT NULL,
            imported_at TEXT NOT NULL)""",
        """CREATE TABLE school_indicators (
            school TEXT NOT NULL,
            year INTEGER NOT NULL,
            indicator TEXT NOT NULL,
            value REAL NOT NULL,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (school, year, indicator))""",
        """CREATE TABLE school_priorities (
            id INTEGER PRIMARY KEY,
            school TEXT NOT NULL,
            family TEXT NOT NULL,
            text TEXT NOT NULL,
            indicator TEXT NOT NULL DEFAULT '',
            author_id INTEGER NOT NULL REFERENCES users(id),
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        "CREATE INDEX priorities_school ON school_priorities(school, status)",
        # brokered school-to-school support for a priority (see kb/workflows/pairings.py)
        """CREATE TABLE pairings (
            id INTEGER PRIMARY KEY,
            priority_id INTEGER NOT NULL REFERENCES school_priorities(id),
            school TEXT NOT NULL,
            family TEXT NOT NULL,
            partner TEXT NOT NULL,
            partner_family TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN
                ('proposed', 'agreed', 'declined', 'reviewed')),
            proposal TEXT NOT NULL,
            proposed_by INTEGER NOT NULL REFERENCES users(id),
            school_accepted_by INTEGER REFERENCES users(id),
            partner_accepted_by INTEGER REFERENCES users(id),
            goal TEXT NOT NULL DEFAULT '',
            milestones TEXT NOT NULL DEFAULT '[]',
            review_on TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '',
            start_year INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        "CREATE INDEX pairings_schools ON pairings(school, partner)",
        """CREATE TABLE pairing_notes (
            id INTEGER PRIMARY KEY,
            pairing_id INTEGER NOT NULL REFERENCES pairings(id),
            author_id INTEGER NOT NULL REFERENCES users(id),
            text TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
    ],
    [  # 8 (issue 19): the pairing a write-up came out of, set by the server when the form was
        # opened from a reviewed pairing's "Write it up" link, so the partnership overview
        # counts the published ones (kb/workflows/submissions.py, services/overview.py).
        "ALTER TABLE submissions ADD COLUMN pairing_id INTEGER REFERENCES pairings(id)",
        "CREATE INDEX submissions_pairing ON submissions(pairing_id) WHERE pairing_id "
        "IS NOT NULL",
    ],
    [  # 9 (issue 17): jobs run on a timetable (the weekly digest): one row per job and
        # period, claimed in a write transaction, so several processes run each period's job
        # once
        """CREATE TABLE scheduled_runs (
            job TEXT NOT NULL,
            period TEXT NOT NULL,
            claimed_until REAL NOT NULL,
            done_at REAL,
            summary TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (job, period))""",
    ],
    [  # 10 (issue 18): versions of a programme file replaced by a web edit, so that a sign-up
        # made with the old version, read a moment before, is refused (kb/workflows/signup.py)
        """CREATE TABLE programme_superseded (
            programme TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            superseded_at TEXT NOT NULL,
            PRIMARY KEY (programme, content_hash))""",
    ],
]
# Migrations that rebuild a table others refer to run with foreign keys off (SQLite's
# documented procedure for schema changes ALTER TABLE cannot make); 1-based numbers.
REBUILDS = {5, 7}
SCHEMA_VERSION = len(MIGRATIONS)


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string with seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class StateStore:
    """One application-state SQLite file; every write runs in a BEGIN IMMEDIATE transaction.

    A connection is opened per operation, so threads and worker processes never share one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._secret = b""
        self._keeper: sqlite3.Connection | None = None

    def _keep_open(self) -> None:
        """Hold one idle connection for the life of the store: when the last connection to a
        WAL database closes, SQLite checkpoints and fsyncs it, which would otherwise happen
        after nearly every request (issue 18 measured ~10 ms per write)."""
        if self._keeper is None and self.path.exists():
            self._keeper = sqlite3.connect(str(self.path), check_same_thread=False)

    def release(self) -> None:
        """Close the idle connection (it is opened again on the next use), e.g. before the
        file system is remounted or the file is copied aside."""
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.close()

    def _connect(self) -> sqlite3.Connection:
        self._keep_open()
        # isolation_level=None: transactions are begun explicitly, never implicitly deferred.
        conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            # FULL: a commit reaches the disk before we tell a contributor their work is saved.
            conn.execute("PRAGMA synchronous=FULL")
        except BaseException:
            conn.close()  # a traceback kept for the log must not keep the file open
            raise
        return conn

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (autocommit; each statement sees a consistent snapshot).

        On a full or read-only disk SQLite cannot create the WAL's shared-memory file that
        opening needs; the file is then read as it stands (the last connection to close
        checkpointed everything into it), so signed-in reading keeps working.
        """
        try:
            conn = self._connect()
            try:
                conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
            except BaseException:
                conn.close()
                raise
        except sqlite3.OperationalError as exc:
            if storage_error(exc, self.path.parent) is None:
                raise
            conn = sqlite3.connect(f"file:{self.path}?immutable=1", uri=True,
                                   isolation_level=None, check_same_thread=False)
        try:
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def write(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction taken with BEGIN IMMEDIATE: committed on success, else rolled back.

        Taking the write lock up front avoids the read-then-upgrade failure (SQLITE_BUSY_SNAPSHOT)
        that a deferred transaction hits when another writer commits in between.
        """
        try:
            conn = self._connect()
        except sqlite3.OperationalError as exc:  # a full disk can fail the opening already
            raise self._write_failure(exc) from exc
        if not durable:
            # WAL + NORMAL: still atomic and consistent, but the commit is not fsynced, so the
            # last moments can be lost in a power cut. Used for the search log only.
            conn.execute("PRAGMA synchronous=NORMAL")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise self._write_failure(exc) from exc
        finally:
            conn.close()

    def _write_failure(self, exc: sqlite3.OperationalError) -> KBError:
        """A full or read-only disk as StorageError (a clear 503 on the web), else KBError."""
        return storage_error(exc, self.path.parent) or KBError(
            f"the application database {self.path} could not be written: {exc}")

    def schema_version(self) -> int:
        with self.read() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def secret(self) -> bytes:
        """The per-installation key for signing CSRF tokens (shared by every worker)."""
        if not self._secret:
            with self.read() as conn:
                row = conn.execute("SELECT value FROM meta WHERE key='secret'").fetchone()
            self._secret = bytes.fromhex(row[0])
        return self._secret


def migrate(store: StateStore) -> int:
    """Bring the schema up to date; each step and its user_version bump commit together."""
    make_private_dir(store.path.parent)
    create_private_file(store.path)
    restrict_database(store.path)
    conn = store._connect()
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise KBError(f"{store.path} was written by a newer version (schema {version}, "
                          f"this program knows {SCHEMA_VERSION}); upgrade the program")
        for number in range(version + 1, SCHEMA_VERSION + 1):
            # Only settable outside a transaction; back on for the next step.
            conn.execute(f"PRAGMA foreign_keys={'OFF' if number in REBUILDS else 'ON'}")
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Re-read inside the lock: another worker may have migrated meanwhile.
                if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= number:
                    conn.execute("ROLLBACK")
                    continue
                for statement in MIGRATIONS[number - 1]:
                    conn.execute(statement)
                if number in REBUILDS:
                    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise KBError(f"migration {number} would break references: {broken[:3]}")
                if number == 1:
                    conn.execute("INSERT INTO meta (key, value) VALUES ('secret', ?)",
                                 (secrets.token_hex(32),))
                conn.execute(f"PRAGMA user_version={number}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return SCHEMA_VERSION
    finally:
        conn.close()


def open_state(path: Path) -> StateStore:
    """Open (creating and migrating if needed) the application-state database at path."""
    store = StateStore(path)
    try:
        migrate(store)
    except sqlite3.DatabaseError as exc:
        # A full or read-only disk is said as such: the file itself is sound, and "restore it
        # from a backup" would have an operator replace it with older data.
        raise storage_error(exc, path.parent) or KBError(
            f"cannot open the application database {path}: {exc}; restore it from "
            "a backup made with `kb backup`") from exc
    return store


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    users: int
    submissions: int
    revisions: int


def backup(store: StateStore, target: Path, *, overwrite: bool = False) -> BackupReport:
    """A consistent copy of the live database through SQLite's online backup API.

    The copy is written to a temporary file beside the target, checked with
    integrity_check, fsynced and only then renamed into place.
    """
    if target.is_dir():
        target = target / f"state-{time.strftime('%Y%m%d-%H%M%S')}.db"
    if target.exists() and not overwrite:
        raise BadInputError(f"{target} already exists; choose another path or pass --force")
    if not store.path.exists():
        raise KBError(f"there is no application database at {store.path} yet")
    make_private_dir(target.parent)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    create_private_file(tmp)  # the copy holds password hashes: owner-only from its first byte
    src = store._connect()
    dst = sqlite3.connect(str(tmp))
    try:
        # One step: a single read snapshot (WAL readers do not block writers), whereas a
        # stepped backup restarts every time another connection writes.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise KBError(f"the backup copy failed its integrity check: {check}")
        counts = [dst.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("users", "submissions", "revisions")]
    except BaseException:
        dst.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    dst.close()
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return BackupReport(target, target.stat().st_size, *counts)
