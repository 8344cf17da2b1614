"""A full or read-only disk during writes (reliability row 42): sign-in, contribution and
collection edits answer a clear 503, nothing acknowledged is lost, and reading keeps working.
Faults are injected where SQLite and the file system raise them, and once on a real tmpfs."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from support_accounts import PASSWORD, Site, csrf_of, open_site
from test_auth_web import TEXT, login_form

from kb.settings import Settings
from kb.state.database import StateStore

FULL = "database or disk is full"
READ_ONLY = "attempt to write a readonly database"
WORDS = {FULL: "storage is full", READ_ONLY: "storage is read-only"}


class RefusingConnection:
    """A real SQLite connection whose writes fail the way SQLite fails on a full or read-only
    disk (reads pass through untouched)."""

    def __init__(self, conn: sqlite3.Connection, message: str) -> None:
        self._conn, self._message = conn, message

    def _check(self, sql: str) -> None:
        if sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            raise sqlite3.OperationalError(self._message)

    def execute(self, sql: str, *args: Any) -> Any:
        self._check(sql)
        return self._conn.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        self._check(sql)
        return self._conn.executemany(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def refuse_writes(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    real = StateStore._connect
    monkeypatch.setattr(StateStore, "_connect",
                        lambda self: RefusingConnection(real(self), message))


def assert_storage_page(response: Any, words: str) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert words in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("message", [FULL, READ_ONLY])
def test_sign_in_on_a_refusing_disk_is_a_clear_503_and_reading_works(
        site: Site, monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    refuse_writes(monkeypatch, message)
    browser = TestClient(site.app, follow_redirects=False)
    page = login_form(browser, "cara@example.org", PASSWORD)
    assert_storage_page(page, WORDS[message])
    assert "Nothing could be saved" in page.text and "kb_session" not in str(page.cookies)
    api = TestClient(site.app).post("/api/login", json={"email": "cara@example.org",
                                                        "password": PASSWORD})
    assert_storage_page(api, WORDS[message])
    assert api.json()["detail"].startswith("The library's storage is")
    for path in ("/", "/search?q=attendance", "/api/search?q=attendance",
                 "/practice/first-day-attendance-calls"):
        assert browser.get(path).status_code == 200, path


@pytest.mark.parametrize("message", [FULL, READ_ONLY])
def test_a_contribution_on_a_refusing_disk_is_a_503_and_nothing_is_half_saved(
        site: Site, monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    client = site.client("cara@example.org")
    token = client.get("/api/me").json()["csrf_token"]
    before = (site.count("submissions"), site.count("audit_log"))
    refuse_writes(monkeypatch, message)
    response = client.post("/api/submissions", headers={"X-CSRF-Token": token},
                           json={"markdown": TEXT, "slug": "on-a-full-disk", "submit": True})
    assert_storage_page(response, WORDS[message])
    monkeypatch.undo()
    assert (site.count("submissions"), site.count("audit_log")) == before
    saved = client.post("/api/submissions", headers={"X-CSRF-Token": token},
                        json={"markdown": TEXT, "slug": "on-a-full-disk", "submit": True})
    assert saved.status_code == 201  # once there is room again, the same request works


@pytest.mark.parametrize("code,words", [(errno.ENOSPC, "storage is full"),
                                        (errno.EROFS, "storage is read-only")])
def test_a_collection_edit_on_a_refusing_disk_is_a_503_and_the_file_is_unchanged(
        site: Site, monkeypatch: pytest.MonkeyPatch, code: int, words: str) -> None:
    client = site.client("cpd@example.org")
    page = client.get("/collections/new")
    created = client.post("/collections/new", data={
        "csrf_token": csrf_of(page.text), "title": "Quizzes", "slug": "quizzes",
        "purpose": "For a department meeting.", "curator": "Cal Curator",
        "subjects": ["maths"], "phases": ["secondary"]})
    assert created.status_code == 303
    path = site.settings.collections_dir / "quizzes.md"
    before = path.read_bytes()
    edit = client.get("/collections/quizzes/edit")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "replace", refuse)
    response = client.post("/collections/quizzes/details", data={
        "csrf_token": csrf_of(edit.text), "title": "Renamed", "purpose": "Changed.",
        "curator": "Cal Curator", "subjects": ["maths"], "phases": ["secondary"]})
    assert_storage_page(response, words)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert client.get("/collections/quizzes/edit").status_code == 200


# -- a real small tmpfs (needs root and mount; CI runs as root in its container) -------------

def _mount(target: Path, options: str) -> bool:
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True)
    return done.returncode == 0


@pytest.fixture
def tmpfs_site(private: Settings, embedder: Any, users_template: Path,
               tmp_path: Path) -> Iterator[tuple[Site, Path]]:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    size = sum(p.stat().st_size for p in private.data_dir.rglob("*") if p.is_file())
    if os.geteuid() != 0 or not _mount(mount, f"size={size + 4_000_000}"):
        pytest.skip("mounting a tmpfs needs root and the mount capability")
    try:
        shutil.copytree(private.data_dir, mount / "var")
        settings = Settings(content_dir=private.content_dir, data_dir=mount / "var")
        for site in open_site(settings, embedder, users_template):
            yield site, mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_a_real_full_then_read_only_disk_gives_503s_and_loses_nothing(
        tmpfs_site: tuple[Site, Path]) -> None:
    site, mount = tmpfs_site
    client = site.client("cara@example.org")
    token = client.get("/api/me").json()["csrf_token"]
    before = site.count("submissions")
    filler = _fill(mount)
    refused = [client.post("/api/submissions", headers={"X-CSRF-Token": token},
                           json={"markdown": TEXT, "slug": f"full-{i}", "submit": True})
               for i in range(3)]
    assert {r.status_code for r in refused} == {503}, [r.text for r in refused]
    assert all("storage is full" in r.text for r in refused)
    browser = TestClient(site.app, follow_redirects=False)
    assert_storage_page(login_form(browser, "eve@example.org", PASSWORD), "storage is full")
    assert browser.get("/search?q=attendance").status_code == 200
    filler.unlink()
    assert site.count("submissions") == before
    saved = client.post("/api/submissions", headers={"X-CSRF-Token": token},
                        json={"markdown": TEXT, "slug": "room-again", "submit": True})
    assert saved.status_code == 201

    # No connection leaked by the failures holds a file open for writing: remounting works
    # once the stores' deliberate idle connections (issue 18) are released.
    site.store.release()
    site.app.state.services.state.release()
    remount = subprocess.run(["mount", "-o", "remount,ro", str(mount)], capture_output=True)
    assert remount.returncode == 0, remount.stderr
    try:
        response = client.post("/api/submissions", headers={"X-CSRF-Token": token},
                               json={"markdown": TEXT, "slug": "read-only", "submit": True})
        assert_storage_page(response, "storage is read-only")
        assert browser.get("/search?q=attendance").status_code == 200
        assert client.get("/api/submissions").status_code == 200
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=False)
    assert site.count("submissions") == before + 1
