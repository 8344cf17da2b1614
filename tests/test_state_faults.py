"""Faults around the application database's own transactions (reliability rows 9, 10, 12 and
13): kill -9 inside an import and inside each migration step, a file-size limit mid-write, and
the WAL after a long reader. Real SQLite files, real child processes, real signals."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from kb.state import database as state
from kb.state.database import open_state

CHILD = Path(__file__).resolve().parent / "state_children.py"
CSVS = [ROOT / "content" / "data" / "school-context.csv",
        ROOT / "content" / "data" / "school-indicators.csv"]


def kill_inside_transaction(*args: str) -> None:
    """Run a child until it says it is inside its transaction, then SIGKILL it."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(CHILD.parent)]))
    child = subprocess.Popen([sys.executable, str(CHILD), *args], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()  # type: ignore[union-attr]
        assert line == "in-transaction\n", (line, child.stderr.read())  # type: ignore[union-attr]
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
    assert child.returncode == -signal.SIGKILL


def schema(path: Path) -> tuple[int, list[tuple[str, str]], str]:
    conn = sqlite3.connect(path)
    try:
        return (conn.execute("PRAGMA user_version").fetchone()[0],
                sorted(conn.execute("SELECT name, sql FROM sqlite_master").fetchall()),
                conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_kill_9_inside_an_import_keeps_the_old_rows_and_the_file_sound(tmp_path: Path) -> None:
    """Row 9: the import's rows all arrive or none do; what was stored before stays."""
    path = tmp_path / "state.db"
    store = open_state(path)
    with store.write() as conn:
        conn.executemany("INSERT INTO audit_log (at, actor, action, target) VALUES "
                         "('t', 'seed', 'test', ?)", [(str(i),) for i in range(1000)])
    kill_inside_transaction("import", str(path), *map(str, CSVS))
    assert schema(path)[2] == "ok"
    assert count(path, "audit_log") == 1000
    assert count(path, "school_context") == 0 and count(path, "school_indicators") == 0
    # The same import afterwards goes through: nothing was left half-locked.
    from kb.content.library import load_reference
    from kb.state.schooldata import import_csv
    import_csv(open_state(path), load_reference(ROOT / "content")[1], CSVS)
    assert count(path, "school_context") == 32


@pytest.mark.parametrize("step", range(1, state.SCHEMA_VERSION + 1))
def test_kill_9_mid_migration_leaves_the_old_schema_whole(tmp_path: Path, step: int) -> None:
    """Row 13: killed after every statement of a step but before its COMMIT, the file has
    exactly the schema and user_version of the step before; the next start finishes the job."""
    before = tmp_path / "before.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(state, "SCHEMA_VERSION", step - 1)
        open_state(before)
    expected = schema(before)
    killed = tmp_path / "killed.db"
    kill_inside_transaction("migrate", str(killed), str(step))
    assert schema(killed) == expected
    assert open_state(killed).schema_version() == state.SCHEMA_VERSION
    assert schema(killed)[1] == schema(open_state(tmp_path / "new.db").path)[1]


def test_a_file_size_limit_mid_import_is_a_clear_cli_error_and_loses_nothing(
        tmp_path: Path) -> None:
    """Row 10: the write fails (EFBIG: SQLite's "disk I/O error"); the command names the
    database, exits 1 without a traceback, and the file is as it was."""
    data = tmp_path / "var"
    open_state(data / "state.db")
    room = 64 * 1024  # room for the 32 KiB shared-memory file, not for the import's WAL

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", "from cli.main import main; main()", "--content-dir",
         str(ROOT / "content"), "--data-dir", str(data), "schools", "import", *map(str, CSVS)],
        env=env, capture_output=True, text=True, timeout=120, preexec_fn=limit_file_size)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert f"{data / 'state.db'} could not be written" in done.stderr + done.stdout
    assert schema(data / "state.db")[2] == "ok"
    assert count(data / "state.db", "school_context") == 0


def test_the_wal_shrinks_back_once_a_long_reader_lets_go(tmp_path: Path) -> None:
    """Row 12: a reader held open (an export) lets the WAL grow past the limit under writes;
    once it ends, a few more writes bring the file back under WAL_LIMIT_BYTES, even while
    other connections (other workers) keep the database open."""
    path = tmp_path / "state.db"
    store = open_state(path)
    other_worker = sqlite3.connect(path, isolation_level=None)
    other_worker.execute("SELECT count(*) FROM meta").fetchone()
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM audit_log").fetchone()
    blob = "x" * 40_000
    for i in range(300):
        with store.write() as conn:
            conn.execute("INSERT INTO audit_log (at, actor, action, target, detail) "
                         "VALUES ('t', 'w', 'test', ?, ?)", (str(i), blob))
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 2 * state.WAL_LIMIT_BYTES  # the reader held it back
    reader.execute("COMMIT")
    reader.close()
    for i in range(20):
        with store.write() as conn:
            conn.execute("UPDATE audit_log SET detail = 'short' WHERE target = ?", (str(i),))
    assert wal.stat().st_size <= state.WAL_LIMIT_BYTES
    assert count(path, "audit_log") == 300
    other_worker.close()


def test_a_really_full_disk_at_start_says_so_and_never_advises_a_restore(tmp_path: Path) -> None:
    """Row 10 on a real tmpfs: opening a WAL database needs its shared-memory file, so a full
    disk fails already at the start. The command used to say "restore it from a backup",
    advice that would replace a sound database with older data; it now says the disk is full."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs",
                                            str(mount)], capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root and the mount capability")
    try:
        open_state(mount / "state.db")
        filler = mount / "filler"
        with open(filler, "wb") as handle:
            with pytest.raises(OSError):
                for _ in range(64):  # bounded: 4 MiB against a 1 MiB disk
                    handle.write(b"\0" * 65536)
                    handle.flush()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        command = [sys.executable, "-c", "from cli.main import main; main()", "--content-dir",
                   str(ROOT / "content"), "--data-dir", str(mount), "schools", "import",
                   *map(str, CSVS)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        said = done.stderr + done.stdout
        assert done.returncode == 1 and "Traceback" not in said, said
        assert "storage is full" in said and str(mount) in said and "restore" not in said
        filler.unlink()
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert schema(mount / "state.db")[2] == "ok"
        assert count(mount / "state.db", "school_context") == 32
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
