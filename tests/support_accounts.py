"""Shared pieces for the accounts, contribution and moderation tests: real accounts in a real
state database, a real app on a private copy of the fixture library, and helpers to sign in
and to read CSRF tokens from real pages."""

from __future__ import annotations

import dataclasses
import re
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from kb.content.library import load_reference
from kb.settings import Settings
from kb.state.accounts import LoginPolicy, User, add_user, get_user, start_session
from kb.state.database import StateStore, backup, open_state
from kb.workflows.contribution import check_text
from kb.workflows.submissions import Workflow

PASSWORD = "correct horse battery"
# email -> (role, school, display name)
PEOPLE = {
    "admin@example.org": ("admin", None, "Ada Admin"),
    "mod@example.org": ("moderator", None, "Mo Moderator"),
    "mod2@example.org": ("moderator", None, "Max Moderator"),
    "cara@example.org": ("contributor", "ashcombe-academy", "Cara Contributor"),
    "eve@example.org": ("contributor", "eastmere-academy", "Eve Eastmere"),
    "cpd@example.org": ("curator", "tollgate-primary", "Cal Curator"),
    "reader@example.org": ("reader", None, "Rae Reader"),
}
ROLE_PEOPLE = {"reader": "reader@example.org", "contributor": "cara@example.org",
               "moderator": "mod@example.org", "curator": "cpd@example.org",
               "admin": "admin@example.org"}
GOOD_BODY = """## Context

Year 8 pupils in our lowest reading group read far below their age.

## What we did

Year 10 volunteers read with one Year 8 pupil for twenty minutes twice a week, using paired
reading: read together, then the younger pupil reads alone and the tutor praises and prompts.

## Impact

Reading ages of 40 pupils rose by eight months on average over one term.

## What we would change

Train the tutors for longer before they start.

## How to adopt it

Recruit tutors in September, train them for an hour, and timetable the sessions in tutor time.
"""


def good_form(**changes: Any) -> dict[str, Any]:
    """The fields of a valid write-up as the contribution form posts them."""
    data: dict[str, Any] = {
        "title": "Older pupils reading with younger ones",
        "summary": "Year 10 pupils read with Year 8 pupils twice a week and reading ages rose.",
        "school": "ashcombe-academy", "family": "brackenford", "authors": "Cara Contributor",
        "date": "2024-03-01", "phase": "secondary", "key_stages": ["ks3"],
        "subjects": ["english"], "interventions": ["peer-tutoring"],
        "evidence_strength": "emerging",
        "evidence_measure": "Reading ages of 40 pupils before and after one term.",
        "body": GOOD_BODY, "slug": "", "note": "",
    }
    data.update(changes)
    return data


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def key_of(html: str) -> str:
    match = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture(scope="session")
def users_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state database holding PEOPLE, hashed once per test session (argon2 is slow on
    purpose) and copied into each test's data folder with the backup API."""
    from conftest import ROOT

    path = tmp_path_factory.mktemp("users") / "state.db"
    store = open_state(path)
    _, directory = load_reference(ROOT / "content")
    for email, (role, school, name) in PEOPLE.items():
        add_user(store, directory, email, PASSWORD, role, school=school, name=name)
    return path


@dataclass
class Site:
    """One app on a private library, with a client per signed-in person."""

    settings: Settings
    app: Any
    store: StateStore
    clients: dict[str, TestClient] = field(default_factory=dict)

    def user(self, email: str) -> User:
        return get_user(self.store, email)

    def client(self, email: str | None = None, base_url: str = "http://testserver"
               ) -> TestClient:
        """A client signed in as `email` (a real session, created without the password
        check so tests not about signing in stay fast), or an anonymous one."""
        key = f"{email}|{base_url}"
        if key not in self.clients:
            client = TestClient(self.app, base_url=base_url, follow_redirects=False)
            if email:
                token = start_session(self.store, self.user(email), LoginPolicy())
                name = "__Host-kb_session" if base_url.startswith("https") else "kb_session"
                client.cookies.set(name, token)
            self.clients[key] = client
        return self.clients[key]

    def workflow(self) -> Workflow:
        taxonomy, directory = load_reference(self.settings.content_dir)
        return Workflow(self.store, self.settings.practice_dir,
                        lambda slug, text: check_text(slug, text, taxonomy, directory,
                                                      self.settings.max_file_bytes),
                        self.settings.max_submissions_per_hour)

    def count(self, table: str) -> int:
        conn = sqlite3.connect(self.settings.state_path)
        try:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            conn.close()

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.settings.practice_dir.iterdir())}


def open_site(settings: Settings, embedder: Any, users_template: Path) -> Iterator[Site]:
    from webapp.app import create_app

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    backup(StateStore(users_template), settings.state_path, overwrite=True)
    app = create_app(settings, embedder=embedder, update_on_start=False)
    with TestClient(app) as starter:  # runs the lifespan once: model, index, state
        site = Site(settings, app, open_state(settings.state_path))
        site.clients["None|http://testserver"] = starter
        starter.follow_redirects = False
        yield site


@pytest.fixture
def private(built: Settings, tmp_path: Path) -> Settings:
    """A private copy of the indexed fixture library that a test may change: the same as
    `fresh`, but copied from the session's index instead of embedding it all again."""
    shutil.copytree(built.content_dir, tmp_path / "content")
    shutil.copytree(built.index_dir, tmp_path / "var" / "index",
                    ignore=shutil.ignore_patterns(".lock"))
    return Settings(content_dir=tmp_path / "content", data_dir=tmp_path / "var")


@pytest.fixture
def site(private: Settings, embedder: Any, users_template: Path) -> Iterator[Site]:
    """The app over a private, indexed copy of the fixture library, with PEOPLE signed up."""
    yield from open_site(private, embedder, users_template)


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, **changes)
