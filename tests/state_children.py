"""Child processes for tests/test_state_faults.py: each stops inside a real transaction of ours,
says so on stdout and waits to be killed with SIGKILL.

    python state_children.py import STATE_DB CSV...    (kb schools import, stopped before COMMIT)
    python state_children.py migrate STATE_DB STEP     (migration STEP, stopped before COMMIT)
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import time
from pathlib import Path
from typing import Iterator

from kb.content.library import load_reference
from kb.state import database as state
from kb.state.schooldata import import_csv

ROOT = Path(__file__).resolve().parent.parent
REAL_WRITE = state.StateStore.write


def _stop_here() -> int:
    print("in-transaction", flush=True)
    time.sleep(120)  # the parent kills us long before this ends
    return 0


@contextlib.contextmanager
def _write_then_stop(self: state.StateStore, durable: bool = True) -> Iterator[sqlite3.Connection]:
    with REAL_WRITE(self, durable) as conn:
        yield conn
        _stop_here()  # every statement of the body has run; COMMIT has not


def stop_in_import(path: Path, csvs: list[Path]) -> None:
    store = state.StateStore(path)
    state.StateStore.write = _write_then_stop  # type: ignore[method-assign]
    import_csv(store, load_reference(ROOT / "content")[1], csvs)


def stop_in_migration(path: Path, step: int) -> None:
    """Migrate to step - 1, then run step with a pause after its last statement (before the
    user_version bump and COMMIT, which migrate() runs in the same transaction)."""
    store = state.StateStore(path)
    state.SCHEMA_VERSION = step - 1
    state.migrate(store)
    real_connect = state.StateStore._connect

    def connect(self: state.StateStore) -> sqlite3.Connection:
        conn = real_connect(self)
        conn.create_function("stop_here", 0, _stop_here)
        return conn

    state.StateStore._connect = connect  # type: ignore[method-assign]
    state.MIGRATIONS[step - 1] = [*state.MIGRATIONS[step - 1], "SELECT stop_here()"]
    state.SCHEMA_VERSION = step
    state.migrate(store)


if __name__ == "__main__":
    mode, db, *rest = sys.argv[1:]
    if mode == "import":
        stop_in_import(Path(db), [Path(p) for p in rest])
    elif mode == "migrate":
        stop_in_migration(Path(db), int(rest[0]))
    print("finished without being killed", flush=True)
    sys.exit(3)
