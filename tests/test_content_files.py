"""Only regular files inside content/ are read (reliability row 45): symbolic links, whether
they point outside the folder or inside it, and special files are reported and skipped."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, fixture_text, make_library

from cli.main import cli
from kb.content.files import read_regular
from kb.content.library import load_library, practice_files
from kb.curation.catalogue import load_curation
from kb.settings import Settings


@pytest.fixture
def library(tmp_path: Path) -> Settings:
    return make_library(tmp_path / "site")


def outside_copy(tmp_path: Path, slug: str = "reading-catch-up-year-5") -> Path:
    """A valid write-up that lives outside content/ (a link target)."""
    path = tmp_path / "elsewhere" / "secret.md"
    path.parent.mkdir()
    path.write_text(fixture_text(slug).replace(f"slug: {slug}", "slug: smuggled"))
    return path


def test_symlinks_and_fifos_in_practice_are_reported_and_skipped(library: Settings,
                                                                 tmp_path: Path) -> None:
    practice = library.practice_dir
    (practice / "outside-link.md").symlink_to(outside_copy(tmp_path))
    (practice / "inside-link.md").symlink_to(practice / "reading-catch-up-year-5.md")
    (practice / "linked-folder").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    os.mkfifo(practice / "pipe.md")  # reading it would block for ever
    loaded = load_library(library)  # returns: the FIFO was never opened
    assert len(loaded.documents) == 7
    reasons = {p.path: p.message for p in loaded.problems}
    for name in ("outside-link.md", "inside-link.md", "linked-folder", "pipe.md"):
        shown = next(k for k in reasons if k.endswith(f"practice/{name}"))
        assert "only regular files inside content/ are read" in reasons[shown]
        assert shown in loaded.skipped
    assert "symbolic link to" in next(m for k, m in reasons.items() if "outside-link" in k)
    assert "FIFO" in next(m for k, m in reasons.items() if k.endswith("pipe.md"))
    assert all("secret" not in d.path and d.slug != "smuggled" for d in loaded.documents)
    assert [p.name for p in practice_files(practice)] == sorted(
        p.name for p in practice.iterdir() if p.name.endswith(".md") and not p.is_symlink()
        and p.is_file())


def test_links_in_collections_and_programmes_are_not_read(library: Settings,
                                                          tmp_path: Path) -> None:
    library.collections_dir.mkdir()
    library.programmes_dir.mkdir()
    target = tmp_path / "outside-collection.md"
    shutil.copy(ROOT / "content" / "collections" / "closing-the-reading-gap.md", target)
    (library.collections_dir / "borrowed.md").symlink_to(target)
    programme = tmp_path / "outside-programme.yaml"
    shutil.copy(ROOT / "content" / "programmes" / "common-inset-day-2022.yaml", programme)
    (library.programmes_dir / "borrowed.yaml").symlink_to(programme)
    os.mkfifo(library.collections_dir / "pipe.md")
    curation = load_curation(library)
    assert curation.collections == {} and curation.programmes == {}
    for name in ("collections/borrowed.md", "programmes/borrowed.yaml", "collections/pipe.md"):
        found = [p for p in curation.problems if p.path.endswith(name)]
        assert len(found) == 1, curation.problems  # reported once, and never parsed
        assert "only regular files inside content/ are read" in found[0].message


def test_read_regular_refuses_links_and_special_files(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_text("hello")
    (tmp_path / "link.md").symlink_to(real)
    os.mkfifo(tmp_path / "pipe.md")
    assert read_regular(real) == b"hello"
    with pytest.raises(OSError, match="symbolic link"):
        read_regular(tmp_path / "link.md")
    with pytest.raises(OSError, match="FIFO"):
        read_regular(tmp_path / "pipe.md")


def test_kb_validate_names_the_link(library: Settings, tmp_path: Path) -> None:
    (library.practice_dir / "outside-link.md").symlink_to(outside_copy(tmp_path))
    result = CliRunner().invoke(
        cli, ["--content-dir", str(library.content_dir), "--data-dir", str(library.data_dir),
              "validate"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "practice/outside-link.md" in result.output and "symbolic link" in result.output
