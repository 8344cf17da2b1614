"""The search log and the knowledge-gap list (real SQLite, real model for clustering)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from indexer.gaps import find_gaps, gaps_csv
from kb.state.database import StateStore, open_state
from kb.state.searchlog import (
    log_open,
    log_search,
    purge_search_log,
    recent_searches,
    searches_per_month,
)


def make_log(tmp_path) -> StateStore:  # type: ignore[no-untyped-def]
    return open_state(tmp_path / "state.db")


def test_log_records_searches_and_the_opened_result_without_personal_data(tmp_path) -> None:  # type: ignore
    conn = make_log(tmp_path)
    sid = log_search(conn, "  phonics   for year 1 ", {"subject": ["english"]}, 3, 0.62)
    assert log_open(conn, sid, "some-slug") and not log_open(conn, sid, "other")
    assert not log_open(conn, "unknown-id", "x")
    [entry] = recent_searches(conn)
    assert entry.query == "phonics for year 1" and entry.opened == "some-slug"
    assert entry.filters == {"subject": ["english"]} and entry.results == 3
    with conn.read() as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(search_log)")]
    assert columns == ["id", "at", "query", "filters", "results", "top_score", "opened"]


def test_retention_purges_old_entries(tmp_path) -> None:  # type: ignore[no-untyped-def]
    conn = make_log(tmp_path)
    log_search(conn, "old", {}, 0, None, at="2020-01-05T10:00:00+00:00")
    log_search(conn, "new", {}, 0, None, at="2026-11-01T10:00:00+00:00")
    assert purge_search_log(conn, keep_days=90, today=dt.date(2026, 11, 20)) == 1
    assert [s.query for s in recent_searches(conn)] == ["new"]
    assert searches_per_month(conn) == {"2026-11": 1}


def test_gaps_group_paraphrases_and_skip_good_searches(tmp_path, embedder) -> None:  # type: ignore
    conn = make_log(tmp_path)
    for n, q in enumerate(["phonics in year one", "teaching phonics to year 1 children",
                           "year 1 phonics screening check ideas"]):
        log_search(conn, q, {}, 0, None, at=f"2026-10-0{n + 1}T09:00:00+00:00")
    for q in ["chess club for gifted pupils", "chess clubs for more able students"]:
        log_search(conn, q, {}, 2, 0.2, at="2026-10-05T09:00:00+00:00")
    log_search(conn, "retrieval practice in maths", {}, 5, 0.8)
    clusters = find_gaps(recent_searches(conn), embedder)
    assert [c.count for c in clusters] == [3, 2]
    phonics, chess = clusters
    assert all("phonics" in q for q in phonics.queries)
    assert phonics.first_seen.startswith("2026-10-01")
    assert phonics.last_seen.startswith("2026-10-03")
    assert all("chess" in q for q in chess.queries)
    rows = list(csv.reader(io.StringIO(gaps_csv(clusters))))
    assert rows[0] == ["need", "searches", "first_seen", "last_seen", "answered", "paraphrases"]
    assert rows[1][1] == "3"


def test_gap_csv_defuses_spreadsheet_formulas(tmp_path, embedder) -> None:  # type: ignore
    conn = make_log(tmp_path)
    log_search(conn, "=HYPERLINK(\"http://x\")", {}, 0, None)
    text = gaps_csv(find_gaps(recent_searches(conn), embedder))
    assert "'=HYPERLINK" in text


def test_searches_are_logged_and_unmet_ones_reach_the_gap_page(site) -> None:  # type: ignore
    import re

    from kb.state.searchlog import recent_searches as logged

    anonymous = site.client()
    html = anonymous.get("/search", params={"q": "setting up a school chess club"}).text
    anonymous.get("/search", params={"q": "chess clubs for able students"})
    anonymous.get("/api/search", params={"q": "how to run a chess club at lunchtime"})
    page = anonymous.get("/search", params={"q": "phoning families when pupils are off"}).text
    link = re.search(r'href="(/practice/first-day-attendance-calls\?from=[^"#]+)', page)
    assert link, "result links carry the search id"
    anonymous.get(link.group(1))
    entries = logged(site.store)
    assert [e.query for e in entries][:2] == ["setting up a school chess club",
                                             "chess clubs for able students"]
    assert any(e.opened == "first-day-attendance-calls" for e in entries)
    assert "No write-ups found" in html or "match" in html
    assert anonymous.get("/gaps").status_code in (302, 303, 307)
    assert site.client("cara@example.org").get("/gaps").status_code == 403
    gap_page = site.client("mod@example.org").get("/gaps")
    assert gap_page.status_code == 200 and "chess" in gap_page.text
    row = re.search(r'<th scope="row">([^<]*chess[^<]*)</th><td>(\d+)</td>', gap_page.text)
    assert row and row.group(2) == "3"
    assert "phoning families" not in gap_page.text  # that search found a good answer
    csv_text = site.client("cpd@example.org").get("/gaps.csv").text
    assert csv_text.startswith("need,searches,first_seen,last_seen,answered,paraphrases")
