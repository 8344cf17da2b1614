"""Shared fixtures: a small real library on disk, the real bundled model, a real index."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from indexer.embedders.base import Embedder
from indexer.embedders.factory import create_embedder
from indexer.pipeline import index_content
from indexer.search.engine import SearchEngine
from kb.settings import BUNDLED_MODEL, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Model files built from the bundled model (the ONNX export) are shared by every test and
# by `make run`, so they are built once per machine, not once per test.
MODEL_CACHE = ROOT / "var" / "models"
os.environ["KB_MODEL_CACHE"] = str(MODEL_CACHE)
DEFAULTS = Settings()


def make_library(base: Path) -> Settings:
    """A content folder with the real taxonomy and schools and the fixture write-ups."""
    content = base / "content"
    (content / "practice").mkdir(parents=True)
    for name in ("taxonomy.yaml", "schools.yaml"):
        shutil.copy(ROOT / "content" / name, content / name)
    for file in (FIXTURES / "practice").glob("*.md"):
        shutil.copy(file, content / "practice" / file.name)
    return Settings(content_dir=content, data_dir=base / "var", model_cache=MODEL_CACHE)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled MiniLM model with the default backend, loaded once per session."""
    return create_embedder(BUNDLED_MODEL, DEFAULTS.embedder, MODEL_CACHE)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory,
          embedder: Embedder) -> Settings:
    """A fixture library indexed once; tests that use it must not change it."""
    settings = make_library(tmp_path_factory.mktemp("shared"))
    index_content(settings, embedder, progress=False)
    return settings


@pytest.fixture
def fresh(tmp_path: Path, embedder: Embedder) -> Settings:
    """A private, indexed copy of the fixture library that a test may change."""
    settings = make_library(tmp_path)
    index_content(settings, embedder, progress=False)
    return settings


@pytest.fixture(scope="session")
def engine(built: Settings, embedder: Embedder) -> SearchEngine:
    return SearchEngine(built.index_dir, embedder)


@pytest.fixture(scope="session")
def client(built: Settings, embedder: Embedder) -> Iterator[TestClient]:
    from webapp.app import create_app

    with TestClient(create_app(built, embedder=embedder)) as test_client:
        yield test_client


def write(settings: Settings, slug: str, text: str | bytes) -> Path:
    path = settings.practice_dir / f"{slug}.md"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def fixture_text(slug: str) -> str:
    return (FIXTURES / "practice" / f"{slug}.md").read_text(encoding="utf-8")


# Accounts, contribution and moderation fixtures (real accounts in a real state database).
from support_accounts import private, site, users_template  # noqa: E402,F401
from support_mail import smtp_server  # noqa: E402,F401
