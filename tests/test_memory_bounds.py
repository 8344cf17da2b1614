"""What keeps the server's memory level under a long load (found with `kb bench load`)."""

from __future__ import annotations

from indexer import generations as gens
from indexer import store
from kb.settings import Settings
from services.runtime import limit_malloc_arenas


def test_malloc_arenas_are_capped_unless_the_operator_chose(monkeypatch) -> None:  # type: ignore
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() is True  # glibc accepted the cap
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False


def test_index_read_connections_keep_a_small_page_cache(built: Settings) -> None:
    conn = store.connect(gens.current_generation(built.index_dir) / gens.STORE, readonly=True)
    try:
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -512
    finally:
        conn.close()
