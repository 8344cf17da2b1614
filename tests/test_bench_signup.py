"""`kb bench signup` at small scale against a real `kb serve --workers 2`, and its
consistency check shown to catch a broken database."""

from __future__ import annotations

from pathlib import Path

from kb.curation.catalogue import load_curation
from kb.settings import Settings
from kb.state.accounts import User
from kb.state.database import StateStore


def test_a_small_signup_bench_is_consistent_and_its_check_is_real(tmp_path: Path) -> None:
    from conftest import MODEL_CACHE, ROOT

    from bench.signup import PROGRAMME, Teacher, check, run_signup_bench

    lines: list[str] = []
    settings = Settings(content_dir=ROOT / "content", data_dir=tmp_path / "unused",
                        model_cache=MODEL_CACHE)
    figures = run_signup_bench(settings, teachers=60, ramp=3, within=120, workers=2,
                               concurrency=16, workdir=tmp_path / "run", echo=lines.append)
    assert lines[-1].startswith("signups 60, errors 0, inconsistencies 0, p95 ")
    assert figures["signups"] == 60 and figures["errors"] == 0
    assert figures["inconsistencies"] == 0 and figures["within_limit"] == 1
    # each teacher: /api/me and one request for the whole day, plus the 5% changing minds
    assert figures["requests"] >= 60 * 2
    store = StateStore(tmp_path / "run" / "var" / "state.db")
    programme = load_curation(Settings(content_dir=tmp_path / "run" / "content",
                                       data_dir=tmp_path / "run" / "var")).programme(PROGRAMME)
    with store.read() as conn:
        full = conn.execute("SELECT count(*) FROM signups WHERE status='waiting'").fetchone()[0]
        placed = conn.execute("SELECT count(*) FROM signups WHERE status='placed'").fetchone()[0]
    assert full > 0 and placed >= 60 * 4 - 60  # queues exist; nearly everyone has a day
    assert check(store, programme, []) == []
    # Break it: squeeze one extra person into a full room behind the rules' back.
    with store.write() as conn:
        slot, strand = conn.execute(
            "SELECT slot, strand FROM signups WHERE status='waiting' LIMIT 1").fetchone()
        conn.execute("DROP INDEX signups_one")
        conn.execute("UPDATE signups SET status='placed' WHERE id=(SELECT id FROM signups "
                     "WHERE slot=? AND strand=? AND status='waiting' ORDER BY id DESC LIMIT 1)",
                     (slot, strand))
    ghost = Teacher(User(999_999, "ghost@bench.example", "Ghost", "reader", "", "", False),
                    placed={"09:50": "english"})
    found = check(store, programme, [ghost])
    assert any("places for 14 seats" in p for p in found), found
    assert "ghost@bench.example 09:50: acknowledged english, found nothing" in found
