"""The application-state database: atomic migrations, BEGIN IMMEDIATE writes under
concurrency, and consistent online backups (reliability rows 11 and 14)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import workers

from kb.errors import BadInputError, KBError
from kb.state import database as state
from kb.state.database import backup, migrate, open_state


def test_new_database_is_migrated_in_wal_mode_with_a_secret(tmp_path: Path) -> None:
    store = open_state(tmp_path / "state.db")
    assert store.schema_version() == state.SCHEMA_VERSION
    with store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert len(store.secret()) == 32
    assert migrate(store) == state.SCHEMA_VERSION  # running again changes nothing


def test_a_failing_migration_leaves_the_old_schema_and_version(tmp_path: Path,
                                                               monkeypatch) -> None:  # type: ignore
    broken = [["CREATE TABLE half_done (x)", "CREATE TABLE users (this is not sql"]]
    monkeypatch.setattr(state, "MIGRATIONS", broken)
    monkeypatch.setattr(state, "SCHEMA_VERSION", 1)
    with pytest.raises(KBError, match="syntax error"):
        open_state(tmp_path / "state.db")
    conn = sqlite3.connect(tmp_path / "state.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    conn.close()


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(KBError, match="newer version"):
        open_state(path)


def test_write_takes_the_lock_at_begin_so_reads_cannot_go_stale(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: while one write transaction is open nobody else can start one, so a
    read-then-write inside write() never meets SQLITE_BUSY_SNAPSHOT."""
    store = open_state(tmp_path / "state.db")
    other = sqlite3.connect(tmp_path / "state.db", timeout=0, isolation_level=None)
    with store.write() as conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def test_a_waiting_writer_succeeds_once_the_first_commits(tmp_path: Path) -> None:
    store = open_state(tmp_path / "state.db")
    started = threading.Event()
    errors: list[BaseException] = []

    def slow_writer() -> None:
        with store.write() as conn:
            started.set()
            conn.execute("INSERT INTO meta (key, value) VALUES ('slow', '1')")
            time.sleep(0.5)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    started.wait(5)
    try:
        with store.write() as conn:
            conn.execute("UPDATE meta SET value='2' WHERE key='slow'")
    except BaseException as exc:  # pragma: no cover - the failure being tested for
        errors.append(exc)
    thread.join()
    assert errors == []
    with store.read() as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='slow'").fetchone()[0] == "2"


def test_many_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    """Reliability row 11: 8 writer processes; no 'database is locked', every row kept."""
    path = tmp_path / "state.db"
    open_state(path)
    processes, each = 8, 200
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=workers.write_rows, args=(str(path), w, each))
             for w in range(processes)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [p.exitcode for p in procs] == [0] * processes
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == processes * each
    # Each transaction saw every earlier commit: the counts it read are all different.
    assert conn.execute("SELECT count(DISTINCT detail) FROM audit_log").fetchone()[0] == \
        processes * each
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_backup_while_writing_is_consistent_and_usable(tmp_path: Path) -> None:
    """Reliability row 14: a backup taken under writes passes integrity_check, and the copy
    opens as a working state database."""
    store = open_state(tmp_path / "state.db")
    # Another worker's connection keeps the database open, so recent commits stay in the WAL
    # (with no other connection the last close folds them into the main file, and even a
    # plain copy of that file would look complete).
    other_worker = sqlite3.connect(tmp_path / "state.db")
    other_worker.execute("SELECT count(*) FROM meta").fetchone()
    stop = threading.Event()
    written = [0]

    def keep_writing() -> None:
        while not stop.is_set():
            with store.write() as conn:
                conn.execute("INSERT INTO audit_log (at, actor, action, target) "
                             "VALUES ('t', 'w', 'test', 'x')")
            written[0] += 1

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        time.sleep(0.2)
        (tmp_path / "copies").mkdir()
        committed = written[0]
        report = backup(store, tmp_path / "copies")  # a folder: a dated file inside it
    finally:
        stop.set()
        thread.join()
    assert report.path.parent == tmp_path / "copies" and report.path.exists()
    copy = sqlite3.connect(report.path)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copied = copy.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    copy.close()
    assert 0 < committed <= copied <= written[0]  # every commit made before the backup began
    other_worker.close()
    assert open_state(report.path).schema_version() == state.SCHEMA_VERSION
    assert not list((tmp_path / "copies").glob(".*.tmp"))
    with pytest.raises(BadInputError, match="already exists"):
        backup(store, report.path)
