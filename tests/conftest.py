"""Shared fixtures: a small real library on disk, the real bundled model, a real index."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from indexer.embedding import SentenceTransformerEmbedder
from indexer.pipeline import index_content
from indexer.search import SearchEngine
from kb.settings import BUNDLED_MODEL, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def make_library(base: Path) -> Settings:
    """A content folder with the real taxonomy and schools and the fixture write-ups."""
    content = base / "content"
    (content / "practice").mkdir(parents=True)
    for name in ("taxonomy.yaml", "schools.yaml"):
        shutil.copy(ROOT / "content" / name, content / name)
    for file in (FIXTURES / "practice").glob("*.md"):
        shutil.copy(file, content / "practice" / file.name)
    return Settings(content_dir=content, data_dir=base / "var")


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real bundled MiniLM model, loaded once for the whole test session."""
    return SentenceTransformerEmbedder(BUNDLED_MODEL)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory,
          embedder: SentenceTransformerEmbedder) -> Settings:
    """A fixture library indexed once; tests that use it must not change it."""
    settings = make_library(tmp_path_factory.mktemp("shared"))
    index_content(settings, embedder, progress=False)
    return settings


@pytest.fixture
def fresh(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Settings:
    """A private, indexed copy of the fixture library that a test may change."""
    settings = make_library(tmp_path)
    index_content(settings, embedder, progress=False)
    return settings


@pytest.fixture(scope="session")
def engine(built: Settings, embedder: SentenceTransformerEmbedder) -> SearchEngine:
    return SearchEngine(built.index_dir, embedder)


@pytest.fixture(scope="session")
def client(built: Settings, embedder: SentenceTransformerEmbedder) -> Iterator[TestClient]:
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
