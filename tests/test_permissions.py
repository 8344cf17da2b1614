"""Owner-only permissions for the data folder, the application database and its backups
(reliability row 43): stat after the first start and after `kb backup`."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_library
from fastapi.testclient import TestClient

from cli.main import cli
from kb.settings import Settings
from kb.state.database import open_state


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def ordinary_umask() -> Iterator[None]:
    """The usual umask (022), under which files would otherwise be readable by everyone."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_first_start_makes_the_data_folder_and_database_owner_only(
        tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from webapp.app import create_app

    settings = make_library(tmp_path)
    assert not settings.data_dir.exists()
    with TestClient(create_app(settings, embedder=embedder)) as client:
        assert client.get("/api/health").status_code == 200
        assert mode(settings.data_dir) == 0o700
        assert mode(settings.state_path) == 0o600
        store = open_state(settings.state_path)
        with store.read() as reader:  # while a connection is open the -wal and -shm exist
            with store.write() as conn:
                conn.execute("INSERT INTO meta (key, value) VALUES ('probe', 'x')")
            side = [settings.state_path.with_name(settings.state_path.name + s)
                    for s in ("-wal", "-shm")]
            assert all(p.exists() for p in side)
            assert [mode(p) for p in side] == [0o600, 0o600]
            reader.execute("SELECT 1")


def test_backup_is_owner_only_and_loose_databases_are_tightened(tmp_path: Path) -> None:
    settings = Settings(content_dir=Path(__file__).resolve().parents[1] / "content",
                        data_dir=tmp_path / "var")
    settings.data_dir.mkdir()
    open_state(settings.state_path)
    os.chmod(settings.state_path, 0o644)  # as an older version left it
    open_state(settings.state_path)
    assert mode(settings.state_path) == 0o600
    target = tmp_path / "backups" / "state-copy.db"
    result = CliRunner().invoke(
        cli, ["--content-dir", str(settings.content_dir), "--data-dir", str(settings.data_dir),
              "backup", str(target)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700
    result = CliRunner().invoke(
        cli, ["--content-dir", str(settings.content_dir), "--data-dir", str(settings.data_dir),
              "backup", str(target), "--force"], catch_exceptions=False)
    assert result.exit_code == 0 and mode(target) == 0o600
