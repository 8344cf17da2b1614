"""The `kb` command line, driven through click's CliRunner on real files and a real index."""

from __future__ import annotations

from click.testing import CliRunner
from conftest import write

from cli.main import cli
from kb.settings import Settings


def run(settings: Settings, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(
        cli, ["--content-dir", str(settings.content_dir), "--data-dir", str(settings.data_dir),
              *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_validate_passes_then_fails_listing_every_problem(fresh: Settings) -> None:
    assert "7 of 7 write-ups valid" in run(fresh, "validate")
    write(fresh, "bad-one", "---\ntitle: [\n---\n")
    write(fresh, "bad-two", b"\xff\xfe")
    out = run(fresh, "validate", code=1)
    assert "bad-one.md:2" in out and "bad-two.md" in out and "not valid UTF-8" in out
    assert "7 of 9 write-ups valid; 2 invalid" in out


def test_index_reports_skips_and_is_incremental(fresh: Settings) -> None:
    write(fresh, "bad-one", "---\ntitle: [\n---\n")
    out = run(fresh, "index", "--quiet")
    assert "is up to date" in out and "skipped:" in out and "bad-one.md" in out
    out = run(fresh, "index", "--full", "--quiet")
    assert "6 added" in out and "a full rebuild was asked for" in out


def test_search_prints_ranked_results_with_scores(fresh: Settings) -> None:
    out = run(fresh, "search", "calling parents when children miss school", "--limit", "3")
    lines = out.splitlines()
    assert "matching write-ups" in lines[0]
    assert "[first-day-attendance-calls]" in lines[1]
    assert run(fresh, "search", "", "--subject", "maths").count("[") == 2


def test_search_with_unknown_filter_value_returns_no_results(fresh: Settings) -> None:
    assert "0 matching" in run(fresh, "search", "x", "--family", "nowhere")


def test_gaps_lists_recent_unmet_searches_as_the_web_page_does(fresh: Settings) -> None:
    import datetime as dt

    from kb.state.database import open_state
    from kb.state.searchlog import log_search

    state = open_state(fresh.state_path)
    recent = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).isoformat()
    for query in ("phonics in year one", "teaching phonics to year 1 children"):
        log_search(state, query, {}, 0, None, at=recent)
    log_search(state, "retrieval practice in maths", {}, 5, 0.8, at=recent)  # found: no gap
    log_search(state, "chess club", {}, 0, None, at="2020-01-05T10:00:00+00:00")  # too old
    out = run(fresh, "gaps", "--days", "30")
    assert out.splitlines()[0] == "1 unmet needs in the last 30 days"
    assert "   2  " in out and "phonics" in out and "chess" not in out and "retrieval" not in out
    rows = run(fresh, "gaps", "--csv").splitlines()
    assert rows[0] == "need,searches,first_seen,last_seen,answered,paraphrases"
    assert len(rows) == 2


def test_new_creates_a_valid_draft_and_refuses_to_overwrite(fresh: Settings) -> None:
    out = run(fresh, "new", "--title", "Reading aloud in tutor time", "--school",
              "Ashcombe Academy", "--author", "A Teacher", "--subject", "English",
              "--intervention", "reading strategies")
    path = fresh.practice_dir / "reading-aloud-in-tutor-time.md"
    assert path.exists() and "status: draft" in path.read_text() and str(path) in out
    assert "8 of 8 write-ups valid" in run(fresh, "validate")
    out = run(fresh, "new", "--title", "Reading aloud in tutor time", "--school",
              "ashcombe-academy", code=1)
    assert "already exists" in out


def test_new_explains_unknown_tags_and_schools(fresh: Settings) -> None:
    out = run(fresh, "new", "--title", "X", "--school", "Ashcombe Acadmy", code=1)
    assert "unknown school" in out and "ashcombe-academy" in out
    out = run(fresh, "new", "--title", "X", "--school", "ashcombe-academy", "--subject",
              "mathz", code=1)
    assert "did you mean maths" in out


def test_stats_counts_by_tag(fresh: Settings) -> None:
    out = run(fresh, "stats")
    assert "7 write-ups (6 published)" in out
    assert "     2  Mathematics" in out


def test_help_for_every_command() -> None:
    for command in ("validate", "index", "search", "serve", "new", "stats"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0 and "Usage: " in result.output
