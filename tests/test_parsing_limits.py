"""Parsing with limits (reliability rows 35 and 36): an impossible date, a YAML alias bomb or
nesting 10,000 deep in one file is reported with file, line and field, fast, and skipped;
every other file still validates and indexes, and nothing ends in a traceback."""

from __future__ import annotations

import html
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, fixture_text, make_library, write
from support_accounts import Site
from test_contribute_web import CARA, form_page

from cli.main import cli
from kb.content.documents import parse_document
from kb.content.library import load_reference
from kb.content.yamlfile import MAX_DEPTH, YamlSyntaxError, load_located
from kb.curation.collection import parse_collection
from kb.curation.programme import References, parse_programme
from kb.settings import Settings
from kb.workflows.contribution import build_text, check_text, describe_change, fields_from_text

GOOD = fixture_text("weekly-quizzes-year-7-maths")
DATE_LINE, STATUS_LINE = 7, 16  # `date: 2015-06-19` and `status: published` in that file
REFERENCE = load_reference(ROOT / "content")
COLLECTION = (Path(__file__).parent / "fixtures" / "collections" /
              "reading-and-attendance.md").read_text(encoding="utf-8")
PROGRAMME = (Path(__file__).parent / "fixtures" / "programmes" / "test-day.yaml").read_text(
    encoding="utf-8")
BAD_DATES = [
    ("2024-02-30", "2024-02-30 is not a real date: February 2024 has 29 days"),
    ("2024-13-45", "2024-13-45 is not a real date: there is no month 13"),
    ("30/02/2024", "must be a date written YYYY-MM-DD, got '30/02/2024', which is not a real "
                   "date either (February 2024 has 29 days)"),
]


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic alias bomb: under 1 KB that stands for width**levels values."""
    lines = ["lol0: &lol0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * width)
                     + "]")
    return "\n".join(lines) + "\n"


def with_front(text: str, extra: str) -> str:
    """A write-up or collection file with extra YAML lines at the top of its front matter."""
    return text.replace("---\n", "---\n" + extra, 1)


def kb(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--content-dir", str(settings.content_dir), "--data-dir", str(settings.data_dir),
              *args], catch_exceptions=False)
    return result.exit_code, result.output


# Bounds are on CPU time of this process (time.process_time): the work done, whatever else
# the machine is busy with.
def timed(func, *args):  # type: ignore[no-untyped-def]
    started = time.process_time()
    value = func(*args)
    return value, time.process_time() - started


# -- row 35: dates --------------------------------------------------------------------------

@pytest.mark.parametrize("written, message", BAD_DATES)
def test_validate_names_an_impossible_date_and_checks_every_other_file(
        tmp_path: Path, written: str, message: str) -> None:
    settings = make_library(tmp_path)
    write(settings, "bad-date", GOOD.replace("date: 2015-06-19", f"date: {written}"))
    code, out = kb(settings, "validate")
    assert code == 1
    assert f"content/practice/bad-date.md:{DATE_LINE}: [date] {message}" in out
    assert "7 of 8 write-ups valid; 1 invalid" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("written, message", BAD_DATES)
def test_an_impossible_review_date_or_programme_date_is_named_too(written: str,
                                                                  message: str) -> None:
    text = GOOD.replace("status: published", f"status: published\nreview_due: {written}")
    result = parse_document("content/practice/x.md", text.encode(), *REFERENCE)
    assert result.document is None
    assert [str(p) for p in result.problems] == [
        f"content/practice/x.md:{STATUS_LINE + 1}: [review_due] {message}"]
    day = parse_programme("content/programmes/day.yaml",
                          PROGRAMME.replace("date: 2024-01-05", f"date: {written}").encode(),
                          REFERENCE[0], References({}))
    assert f"day.yaml:2: [date] {message}" in "\n".join(str(p) for p in day.problems)


def test_index_skips_impossible_dates_and_keeps_publishing_the_rest(private: Settings) -> None:
    for number, (written, _) in enumerate(BAD_DATES):
        write(private, f"bad-date-{number}", GOOD.replace("date: 2015-06-19", f"date: {written}"))
    code, out = kb(private, "index", "--quiet")
    assert code == 0, out
    assert "0 removed, 6 unchanged" in out  # the six published write-ups stay served
    assert out.count(f":{DATE_LINE}: [date] ") == 3 and "3 invalid write-up(s) skipped" in out
    assert "Traceback" not in out


# -- row 36: anchors, aliases, nesting and size ------------------------------------------------

def test_an_alias_bomb_in_front_matter_is_refused_fast_with_its_line() -> None:
    bomb = billion_laughs()
    assert len(bomb) < 1_000
    result, seconds = timed(parse_document, "content/practice/x.md",
                            with_front(GOOD, bomb).encode(), *REFERENCE)
    assert seconds < 0.5
    assert result.document is None
    assert [str(p) for p in result.problems] == [
        "content/practice/x.md:2: YAML anchors such as &lol0 are not allowed; write each "
        "value out in full (text that starts with * or & needs quotes)"]


@pytest.mark.parametrize("title, message", [
    ("*Weekly", "YAML aliases such as *Weekly are not allowed; write the value out in full "
                "(text that starts with * or & needs quotes)"),
    ("*Weekly* quizzes", "malformed YAML: while scanning an alias: expected alphabetic or "
                         "numeric character, but found '*'; text that starts with * or & "
                         "needs quotes"),
])
def test_text_that_looks_like_an_alias_is_refused_with_a_hint_about_quotes(
        title: str, message: str) -> None:
    text = GOOD.replace('title: "Weekly low-stakes quizzes in Year 7 maths"', f"title: {title}")
    problems = parse_document("content/practice/x.md", text.encode(), *REFERENCE).problems
    assert [str(p) for p in problems] == [f"content/practice/x.md:2: {message}"]


@pytest.mark.parametrize("nesting", [
    "deep: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "deep:\n" + "- " * 10_000 + "x\n",
    "deep: " + "{a: " * 10_000 + "}" * 10_000 + "\n",
])
def test_nesting_ten_thousand_deep_is_a_clear_error_not_a_recursion_error(nesting: str) -> None:
    result, seconds = timed(parse_document, "content/practice/x.md",
                            with_front(GOOD, nesting).encode(), *REFERENCE)
    assert seconds < 0.5
    assert result.document is None
    [problem] = result.problems
    assert problem.line in (2, 3)
    assert problem.message == (f"nested more than {MAX_DEPTH} levels deep; use fewer levels "
                               "of indentation or brackets")


def test_nesting_within_the_budget_is_read() -> None:
    depth = MAX_DEPTH - 1
    located = load_located("deep: " + "[" * depth + "x" + "]" * depth)
    assert located.data["deep"] is not None


def test_every_parse_has_a_size_budget() -> None:
    with pytest.raises(YamlSyntaxError, match="the YAML is 2,000,004 characters; the limit is "
                                              "1,000,000"):
        load_located("a: " + "x" * 2_000_000 + "\n")
    with pytest.raises(YamlSyntaxError, match="the limit is 100"):
        load_located("a: " + "x" * 200, max_chars=100)


@pytest.mark.parametrize("text, message", [
    ("count: 0x_\n", "malformed YAML: cannot read the value '0x_'"),
    ("title: x\n? [a, b]\n: 1\n", "malformed YAML: while constructing a mapping: found "
                                  "unhashable key"),
])
def test_values_the_yaml_library_cannot_build_are_reported_not_raised(text: str,
                                                                      message: str) -> None:
    with pytest.raises(YamlSyntaxError, match=re.escape(message)) as caught:
        load_located(text)
    assert caught.value.line in (1, 2)


def test_collections_and_programmes_refuse_alias_bombs_and_deep_nesting_fast() -> None:
    taxonomy = REFERENCE[0]
    bomb, deep = billion_laughs(), "deep: " + "[" * 10_000 + "]" * 10_000 + "\n"
    for extra, expected in ((bomb, "YAML anchors such as &lol0 are not allowed"),
                            (deep, f"nested more than {MAX_DEPTH} levels deep")):
        collection, seconds = timed(parse_collection, "content/collections/c.md",
                                    with_front(COLLECTION, extra).encode(), taxonomy, {})
        assert seconds < 0.5 and collection.collection is None
        assert [(p.line, expected in p.message) for p in collection.problems] == [(2, True)]
        programme, seconds = timed(parse_programme, "content/programmes/p.yaml",
                                   (extra + PROGRAMME).encode(), taxonomy, References({}))
        assert seconds < 0.5 and programme.programme is None
        assert [(p.line, expected in p.message) for p in programme.problems] == [(1, True)]


def test_validate_reports_each_hostile_file_and_keeps_the_rest(tmp_path: Path) -> None:
    settings = make_library(tmp_path)
    write(settings, "alias-bomb", with_front(GOOD, billion_laughs()))
    write(settings, "deep", with_front(GOOD, "deep: " + "[" * 10_000 + "]" * 10_000 + "\n"))
    (settings.content_dir / "collections").mkdir()
    (settings.content_dir / "collections" / "bomb.md").write_text(
        with_front(COLLECTION, billion_laughs()))
    (settings.content_dir / "programmes").mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "programmes" / "test-day.yaml",
                settings.content_dir / "programmes" / "day.yaml")
    (settings.content_dir / "programmes" / "deep.yaml").write_text(
        "deep:\n" + "- " * 10_000 + "x\n" + PROGRAMME)
    (code, out), seconds = timed(kb, settings, "validate")
    assert code == 1 and "Traceback" not in out
    assert "content/practice/alias-bomb.md:2: YAML anchors such as &lol0" in out
    assert "content/practice/deep.md:2: nested more than" in out
    assert "content/collections/bomb.md:2: YAML anchors such as &lol0" in out
    assert "content/programmes/deep.yaml:2: nested more than" in out
    assert "7 of 9 write-ups valid; 2 invalid" in out
    assert seconds < 10  # the old parser spent minutes expanding the bomb


# -- the contribution form, upload and API share the parser --------------------------------

@pytest.mark.parametrize("written, message", BAD_DATES)
def test_an_uploaded_impossible_date_comes_back_as_a_problem(written: str, message: str) -> None:
    text = GOOD.replace("date: 2015-06-19", f"date: {written}")
    fields = fields_from_text(text, REFERENCE[0], "x")
    assert fields is not None and fields.date == written
    for checked in (text, build_text(fields)):  # the file as uploaded, and the form's rebuild
        result = check_text("x", checked, *REFERENCE, max_bytes=256_000)
        assert result.document is None
        assert message in [p.message for p in result.problems if p.field == "date"]


@pytest.mark.parametrize("extra, expected", [
    (billion_laughs(), "YAML anchors such as &lol0 are not allowed"),
    ("deep: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested more than"),
])
def test_an_uploaded_alias_bomb_or_deep_nesting_comes_back_as_a_problem(extra: str,
                                                                       expected: str) -> None:
    text = with_front(GOOD, extra)
    started = time.process_time()
    assert fields_from_text(text, REFERENCE[0], "x") is None
    result = check_text("x", text, *REFERENCE, max_bytes=256_000)
    assert isinstance(describe_change(GOOD, text), str)  # the revision summary copes too
    assert time.process_time() - started < 1
    assert result.document is None and expected in result.problems[0].message
    assert result.problems[0].line == 2


def test_the_upload_form_and_the_api_answer_with_the_problem_not_a_server_error(
        site: Site) -> None:
    client = site.client(CARA)
    token = client.get("/api/me").json()["csrf_token"]
    for text, expected in [
        (GOOD.replace("date: 2015-06-19", "date: 2024-02-30"), "February 2024 has 29 days"),
        (with_front(GOOD, billion_laughs()), "YAML anchors such as &lol0 are not allowed"),
        (with_front(GOOD, "deep: " + "[" * 10_000 + "]" * 10_000 + "\n"), "nested more than"),
    ]:
        _, csrf, key = form_page(client)
        started = time.process_time()
        page = client.post("/contribute/upload", data={"csrf_token": csrf, "action": "check",
                                                       "idempotency_key": key},
                           files={"file": ("x.md", text.encode(), "text/markdown")})
        assert page.status_code in (200, 422) and html.escape(expected) in page.text
        preview = client.post("/api/preview", json={"markdown": text},
                              headers={"X-CSRF-Token": token})
        assert preview.status_code in (200, 422)
        assert any(expected in p["message"] for p in preview.json()["problems"])
        assert time.process_time() - started < 5
    assert site.count("submissions") == 0
