"""The content fingerprint that tells the server to reload curation survives files that come
and go while it looks (an atomic write's temporary file, a removal): found by `kb bench load`,
where an approval during page views gave a 500."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb.curation.catalogue import content_fingerprint
from kb.settings import Settings


def test_a_file_gone_between_listing_and_looking_is_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(content_dir=tmp_path / "content", data_dir=tmp_path / "var")
    settings.practice_dir.mkdir(parents=True)
    (settings.practice_dir / "kept.md").write_text("x")
    real_walk = os.walk

    def walk_seeing_a_vanished_file(folder):  # type: ignore[no-untyped-def]
        for root, dirs, names in real_walk(folder):
            yield root, dirs, [*names, "removed-meanwhile.md"]

    monkeypatch.setattr(os, "walk", walk_seeing_a_vanished_file)
    paths = [p for p, _, _ in content_fingerprint(settings)]
    assert paths == [str(settings.practice_dir / "kept.md")]


def test_an_atomic_writes_temporary_file_does_not_count(tmp_path: Path) -> None:
    settings = Settings(content_dir=tmp_path / "content", data_dir=tmp_path / "var")
    settings.practice_dir.mkdir(parents=True)
    (settings.practice_dir / "kept.md").write_text("x")
    before = content_fingerprint(settings)
    (settings.practice_dir / ".kept.md.123.tmp").write_text("half written")
    assert content_fingerprint(settings) == before
    (settings.practice_dir / "new.md").write_text("y")
    assert content_fingerprint(settings) != before
