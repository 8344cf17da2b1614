"""Form fields <-> write-up text, validation shared with `kb validate`, safe slugs and paths
(reliability row 7) and crash-safe file replacement."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from support_accounts import GOOD_BODY, good_form

from kb.content.documents import parse_document
from kb.content.library import load_reference
from kb.errors import BadInputError
from kb.workflows.contribution import (
    Fields,
    build_text,
    check_text,
    describe_change,
    diff_lines,
    fields_from_text,
    section_template,
)
from kb.workflows.publishing import check_slug, practice_path, write_atomic

TAXONOMY, DIRECTORY = load_reference(ROOT / "content")


def form(**changes: object) -> Fields:
    return Fields(**good_form(**changes))


def test_a_complete_form_builds_a_file_that_kb_validate_accepts() -> None:
    text = build_text(form(interventions=["Peer tutoring"], subjects=["English"]))
    result = parse_document("content/practice/x.md", text.encode(), TAXONOMY, DIRECTORY)
    assert result.document is not None, result.problems
    doc = result.document
    assert doc.status == "published" and doc.family == "brackenford"
    assert doc.interventions == ("peer-tutoring",) and str(doc.date) == "2024-03-01"
    assert check_text("x", text, TAXONOMY, DIRECTORY, 256_000).problems == result.problems


def test_fields_survive_a_round_trip_through_the_text() -> None:
    original = form(pupil_groups=["eal"], review_due="2026-01-31",
                    title='Quotes " and colons: {{7*7}} no')
    again = fields_from_text(build_text(original), TAXONOMY, "x")
    assert again is not None
    for name in ("title", "summary", "school", "family", "authors", "date", "phase",
                 "key_stages", "subjects", "interventions", "pupil_groups",
                 "evidence_strength", "evidence_measure", "review_due"):
        assert getattr(again, name) == getattr(original.cleaned(), name), name
    assert again.body.strip() == GOOD_BODY.strip()


YAML_LOOKALIKES = ["no", "yes", "on", "off", "null", "~", "1.10", "0o17", "2024-01-02",
                   "12:30", ".inf", "- a", "[a]", "{a: b}", "&anchor", "*alias", "!!str x",
                   "'quoted'", '"x"', "# comment", "a: b", "%TAG"]


@hsettings(max_examples=150, deadline=None)
@given(title=st.one_of(st.sampled_from(YAML_LOOKALIKES), st.text(min_size=1, max_size=80)),
       author=st.sampled_from(YAML_LOOKALIKES))
def test_text_that_yaml_would_coerce_survives_the_round_trip(title: str, author: str) -> None:
    """Reliability row 3: whatever is typed into a text field comes back as the same text
    (YAML 1.1 would read `no` as False, `1.10` as 1.1 and `2024-01-02` as a date) and is
    valid, through the same reader `kb validate` uses."""
    original = form(title=title, authors=f"{author}, Second Author")
    cleaned = original.cleaned()
    text = build_text(original)
    again = fields_from_text(text, TAXONOMY, "x")
    assert again is not None
    assert (again.title, again.authors) == (cleaned.title, cleaned.authors)
    if cleaned.title:
        result = check_text("x", text, TAXONOMY, DIRECTORY, 256_000)
        assert not [p for p in result.problems if p.field in ("title", "authors")], \
            result.problems


def test_empty_form_problems_name_their_fields() -> None:
    result = check_text("x", build_text(Fields(body=section_template())), TAXONOMY, DIRECTORY,
                        256_000)
    fields = {p.field for p in result.problems if p.level == "error"}
    assert {"title", "summary", "school", "family", "authors", "date", "phase", "key_stages",
            "subjects", "interventions", "evidence.strength", "evidence.measure"} <= fields
    assert not [p for p in result.problems if p.field == ""]


def test_unknown_tags_from_an_upload_are_kept_so_the_validator_reports_them() -> None:
    text = build_text(form()).replace("[english]", "[english, astrology]")
    fields = fields_from_text(text, TAXONOMY, "x")
    assert fields is not None and fields.subjects == ["english", "astrology"]
    problems = check_text("x", build_text(fields), TAXONOMY, DIRECTORY, 256_000).problems
    assert any(p.field == "subjects" and "astrology" in p.message for p in problems)


def test_control_characters_are_removed_and_yaml_tricks_stay_text() -> None:
    fields = form(title="Bell\x07 and NUL\x00 gone", summary="yes",
                  authors="no, on, !!python/object:os.system")
    text = build_text(fields)
    assert "\x00" not in text and "\x07" not in text
    doc = check_text("x", text, TAXONOMY, DIRECTORY, 256_000).document
    assert doc is not None
    assert doc.title == "Bell and NUL gone" and doc.summary == "yes"
    assert doc.authors == ("no", "on", "!!python/object:os.system")


def test_drafts_in_uploaded_files_are_refused_with_a_reason() -> None:
    text = build_text(form()).replace("status: published", "status: draft")
    result = check_text("x", text, TAXONOMY, DIRECTORY, 256_000)
    assert result.document is None
    assert any(p.field == "status" for p in result.problems)


def test_diff_and_change_summary_are_readable() -> None:
    old = build_text(form())
    new = build_text(form(title="A new title", body=GOOD_BODY.replace("eight months",
                                                                      "nine months")))
    kinds = {kind for kind, _ in diff_lines(old, new)}
    assert {"add", "del"} <= kinds
    summary = describe_change(old, new)
    assert "title" in summary and "section 'Impact'" in summary
    assert describe_change(old, old) == "no change to the text"


# -- reliability row 7: slugs never escape content/practice ----------------------------

@pytest.mark.parametrize("slug", [
    "../../etc/passwd", "..", ".", "/etc/passwd", "%2e%2e%2f", "..%2f..%2fetc",
    "a/b", "a\\b", "abc\n", "ａｂｃ", "café", "caf\u0435", "ı", "", "-abc", "abc-",
    "a" * 81, "abc.md", "ABC", "a b", "\u202eabc",
])
def test_unsafe_slugs_are_refused(tmp_path: Path, slug: str) -> None:
    with pytest.raises(BadInputError, match="not allowed"):
        practice_path(tmp_path, slug)


@hsettings(max_examples=300, deadline=None)
@given(st.text(max_size=100))
def test_any_slug_is_refused_or_stays_inside_the_folder(slug: str) -> None:
    root = Path("/srv/content/practice")
    try:
        path = practice_path(root, slug)
    except BadInputError:
        return
    assert path.parent == root.resolve() and path.name == f"{check_slug(slug)}.md"


def test_write_atomic_leaves_the_old_file_when_the_rename_fails(tmp_path: Path,
                                                                monkeypatch) -> None:  # type: ignore
    target = tmp_path / "x.md"
    target.write_text("old version", encoding="utf-8")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, "new version")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old version"
    assert [p.name for p in tmp_path.iterdir()] == ["x.md"]  # no temporary file left
    write_atomic(target, "new version")
    assert target.read_text(encoding="utf-8") == "new version"
