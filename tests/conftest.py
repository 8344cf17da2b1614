"""Shared fixtures: a small real library on disk, the real bundled model, a real index."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from indexer.embedding import Embedder, create_embedder
from indexer.pipeline import index_content
from indexer.search import SearchEngine
from kb.settings import Settings, load_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def make_library(base: Path, models: Path | None = None) -> Settings:
    """A content folder with the real taxonomy and schools and the fixture write-ups.

    With `models`, the data folder links to those built embedding models, so a CLI run on
    this library reuses them instead of exporting its own.
    """
    content = base / "content"
    (content / "practice").mkdir(parents=True)
    for name in ("taxonomy.yaml", "schools.yaml"):
        shutil.copy(ROOT / "content" / name, content / name)
    for file in (FIXTURES / "practice").glob("*.md"):
        shutil.copy(file, content / "practice" / file.name)
    if models is not None:
        (base / "var").mkdir()
        (base / "var" / "models").symlink_to(models, target_is_directory=True)
    return Settings(content_dir=content, data_dir=base / "var")


@pytest.fixture(scope="session")
def data_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's data folder, holding the embedding models built (once) for the tests."""
    home = tmp_path_factory.mktemp("data")
    (home / "models").mkdir()
    return home


@pytest.fixture(scope="session")
def embedder(data_home: Path) -> Embedder:
    """The real bundled MiniLM model on the default backend (or KB_EMBEDDER), loaded once."""
    defaults = load_settings()
    return create_embedder(defaults.model, defaults.embedder, data_home)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, data_home: Path,
          embedder: Embedder) -> Settings:
    """A fixture library indexed once; tests that use it must not change it."""
    settings = make_library(tmp_path_factory.mktemp("shared"), data_home / "models")
    index_content(settings, embedder, progress=False)
    return settings


@pytest.fixture
def fresh(tmp_path: Path, data_home: Path, embedder: Embedder) -> Settings:
    """A private, indexed copy of the fixture library that a test may change."""
    settings = make_library(tmp_path, data_home / "models")
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
