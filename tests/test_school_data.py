"""School context and indicators: the CSV import, its messages, and the widened role list."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from cli.main import cli
from kb.content.library import load_reference
from kb.errors import ValidationError
from kb.state import database as state
from kb.state.accounts import ROLES, LoginPolicy, add_user, get_user, start_session
from kb.state.schooldata import (
    INDICATORS,
    import_csv,
    load_contexts,
    load_indicators,
)

DATA = ROOT / "content" / "data"
BUNDLED = [DATA / "school-context.csv", DATA / "school-indicators.csv"]
HEADER = "school,year,attainment8,progress8,ks2_rwm_expected,disadvantaged_gap,persistent_absence"


@pytest.fixture
def store(tmp_path: Path) -> state.StateStore:
    return state.open_state(tmp_path / "state.db")


@pytest.fixture(scope="module")
def directory():  # type: ignore[no-untyped-def]
    return load_reference(ROOT / "content")[1]


def csv_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_figures_cover_every_school_for_three_years(store, directory) -> None:
    report = import_csv(store, directory, BUNDLED)
    contexts, figures = load_contexts(store), load_indicators(store)
    assert report.contexts == len(directory.schools) == 32 == len(contexts)
    for school in directory.schools.values():
        if school.phase == "post-16":  # no KS2 or KS4 measures for a sixth-form college
            continue
        years = {y for series in figures[school.id].values() for y in series}
        assert len(years) >= 3, school.id
        for indicator in figures[school.id]:
            assert school.phase in INDICATORS[indicator].phases
    secondary = figures["ashcombe-academy"]
    assert {"attainment8", "progress8", "disadvantaged_gap", "persistent_absence"} <= set(
        secondary)
    assert {"ks2_rwm_expected", "disadvantaged_gap"} <= set(figures["tollgate-primary"])


def test_import_is_idempotent(store, directory) -> None:
    import_csv(store, directory, BUNDLED)
    first = (load_contexts(store), load_indicators(store))
    import_csv(store, directory, BUNDLED)
    assert (load_contexts(store), load_indicators(store)) == first


def test_every_problem_has_file_line_and_column_and_nothing_is_imported(
        store, directory, tmp_path: Path) -> None:
    good = csv_file(tmp_path, "good.csv", HEADER + "\nashcombe-academy,2024,45,0.1,,15,20\n")
    bad = csv_file(tmp_path, "bad.csv", HEADER + "\n"
                   "saltings-school,2024,abc,0.1,,15,20\n"       # line 2: not a number
                   "nowhere-high,2024,40,0.1,,15,20\n"          # line 3: unknown school
                   "saltings-school,2024,41,0.1,,15,20\n"       # line 4: duplicate year
                   "tollgate-primary,2024,41,,60,15,20\n"       # line 5: A8 for a primary
                   "fellside-school,2024,40,9.5,,15,20\n")      # line 6: P8 out of range
    context = csv_file(tmp_path, "context.csv", "school,pupils,eal_pct,pupil_name\n")
    with pytest.raises(ValidationError) as caught:
        import_csv(store, directory, [good, bad, context])
    text = str(caught.value)
    assert f"{bad}:2:3: [attainment8] not a number: 'abc'" in text
    assert f"{bad}:3:1: [school] unknown school 'nowhere-high'" in text
    assert f"{bad}:4:2: [year] saltings-school 2023/24 already appears on line 2" in text
    assert f"{bad}:5:3: [attainment8]" in text and "primary school" in text
    assert f"{bad}:6:4: [progress8] must be between -5 and 5" in text
    assert f"{context}:1:4: [pupil_name] unknown column" in text
    assert f"{context}:1: [send_pct] missing column" in text
    assert load_indicators(store) == {} and load_contexts(store) == {}


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("school,colour\nashcombe-academy,red\n", "cannot tell what this file holds"),
    ("school,pupils,disadvantaged_pct,eal_pct,send_pct,setting,inspection_grade\n"
     "ashcombe-academy,12.5,20,5,10,coastal,great\n", ":2:2: [pupils] not a whole number"),
    ("school,pupils,disadvantaged_pct,eal_pct,send_pct,setting,inspection_grade\n"
     "ashcombe-academy,600,20,5,10,coastal,great\n", ":2:6: [setting] 'coastal' is not rural"),
    ("school,pupils,disadvantaged_pct,eal_pct,send_pct,setting,inspection_grade\n"
     "ashcombe-academy,600,120,5,10,rural,good\n", ":2:3: [disadvantaged_pct] must be between"),
    (HEADER + "\nashcombe-academy,2024,45,0.1\n", ":2: 4 cells where the header has 7"),
])
def test_bad_files_are_refused_with_the_reason(store, directory, tmp_path: Path, text: str,
                                               message: str) -> None:
    path = csv_file(tmp_path, "in.csv", text)
    with pytest.raises(ValidationError, match=re.escape(message)):
        import_csv(store, directory, [path])


def test_not_utf8_is_refused(store, directory, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"school,pupils\n\xe9cole,1\n")
    with pytest.raises(ValidationError, match="not UTF-8"):
        import_csv(store, directory, [path])


def test_cli_imports_and_shows_and_fails_with_exit_1(tmp_path: Path) -> None:
    base = ["--content-dir", str(ROOT / "content"), "--data-dir", str(tmp_path)]
    ok = CliRunner().invoke(cli, [*base, "schools", "import", *map(str, BUNDLED)])
    assert ok.exit_code == 0, ok.output
    assert "context of 32 schools" in ok.output
    shown = CliRunner().invoke(cli, [*base, "schools", "show", "saltings-school"])
    assert "Progress 8: 2021/22" in shown.output and "disadvantaged" in shown.output
    bad = csv_file(tmp_path, "bad.csv", HEADER + "\nashcombe-academy,20x4,45,0.1,,15,20\n")
    failed = CliRunner().invoke(cli, [*base, "schools", "import", str(bad)])
    assert failed.exit_code == 1 and f"{bad}:2:2: [year] not a whole number" in failed.output


def test_role_check_matches_the_one_list_of_roles(store) -> None:
    with store.read() as conn:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name='users'").fetchone()[0]
    listed = re.search(r"role IN\s*\(([^)]*)\)", sql)
    assert listed and tuple(re.findall(r"'([^']+)'", listed.group(1))) == ROLES
    assert "challenge-lead" in ROLES


def test_upgrade_keeps_accounts_sessions_and_their_work(tmp_path: Path, directory) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for migration in state.MIGRATIONS[:4]:  # the schema before issue 19
        for statement in migration:
            conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('secret', 'ab')")
    conn.execute("PRAGMA user_version=4")
    conn.commit()
    conn.close()
    old = state.StateStore(path)
    old_user = add_user(old, directory, "cara@example.org", "correct horse battery",
                        "contributor", school="ashcombe-academy")
    token = start_session(old, old_user, LoginPolicy())
    store = state.open_state(path)  # runs migration 5
    assert store.schema_version() == state.SCHEMA_VERSION
    assert get_user(store, "cara@example.org").school == "ashcombe-academy"
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert token
    add_user(store, directory, "lead@example.org", "correct horse battery", "challenge-lead")
    assert get_user(store, "lead@example.org").role == "challenge-lead"
