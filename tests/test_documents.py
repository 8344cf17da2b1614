"""Parsing and validating write-up files: every problem named by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import fixture_text, make_library, write

from kb.content.documents import parse_document
from kb.content.library import load_library, load_reference

GOOD = fixture_text("weekly-quizzes-year-7-maths")


@pytest.fixture
def reference():  # type: ignore[no-untyped-def]
    return load_reference(Path(__file__).resolve().parent.parent / "content")


def parse(text: str | bytes, reference, name: str = "content/practice/x.md"):  # type: ignore
    raw = text.encode() if isinstance(text, str) else text
    return parse_document(name, raw, *reference)


def messages(result) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(str(p) for p in result.problems)


def test_valid_file_parses_into_document_with_resolved_aliases(reference) -> None:
    result = parse(GOOD, reference, "content/practice/weekly-quizzes-year-7-maths.md")
    doc = result.document
    assert doc is not None, messages(result)
    assert doc.slug == "weekly-quizzes-year-7-maths"
    assert doc.interventions == ("retrieval-practice",)  # "low-stakes quizzing" is an alias
    assert doc.school_name == "Ashcombe Academy" and doc.family == "brackenford"
    assert doc.review_due.isoformat() == "2017-06-19"
    assert doc.evidence_strength == "promising"


def test_unknown_tag_names_line_and_suggests_closest(reference) -> None:
    result = parse(GOOD.replace("subjects: [maths]", "subjects: [mathz]"), reference)
    assert result.document is None
    assert "x.md:10: [subjects] unknown subjects tag 'mathz'; did you mean maths" in \
        messages(result)


def test_malformed_yaml_reports_its_line(reference) -> None:
    result = parse(GOOD.replace('title: "Weekly', "title: [unclosed"), reference)
    assert result.document is None
    assert "malformed YAML" in messages(result)
    assert result.problems[0].line >= 2


def test_missing_and_mistyped_fields_are_all_reported_together(reference) -> None:
    text = GOOD.replace("school: ashcombe-academy\n", "").replace(
        "date: 2015-06-19", "date: last june").replace('authors: ["Fixture Author"]',
                                                       "authors: yes")
    out = messages(parse(text, reference))
    assert "missing required field 'school'" in out
    assert "[date] must be a date written YYYY-MM-DD" in out
    assert "[authors] must be a list of text items" in out


def test_unsafe_yaml_tag_is_rejected_and_never_executed(reference, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = GOOD.replace('title: "Weekly low-stakes quizzes in Year 7 maths"',
                        f'title: !!python/object/apply:os.system ["touch {marker}"]')
    result = parse(text, reference)
    assert result.document is None and "malformed YAML" in messages(result)
    assert not marker.exists()


@pytest.mark.parametrize("raw, expected", [
    (b"", "file is empty"),
    (b"---\ntitle: \xff\xfe\n---\nbody", "not valid UTF-8"),
    (b"no front matter here", "no front matter"),
    (b"---\ntitle: x\n", "not closed"),
    (b"---\ntitle: \"a\x00b\"\n---\n", "NUL"),
])
def test_broken_bytes_give_a_clear_message(raw: bytes, expected: str, reference) -> None:
    result = parse(raw, reference)
    assert result.document is None
    assert expected in messages(result)


def test_over_large_file_is_refused(reference) -> None:
    big = GOOD + ("word " * 60_000)
    result = parse_document("content/practice/big.md", big.encode(), *reference, max_bytes=100_000)
    assert result.document is None and "the limit is 100,000" in messages(result)


def test_bom_and_crlf_are_normalised(reference) -> None:
    raw = b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode()
    result = parse(raw, reference, "content/practice/weekly-quizzes-year-7-maths.md")
    assert result.document is not None, messages(result)
    assert "\r" not in result.document.body


def test_school_must_belong_to_family(reference) -> None:
    out = messages(parse(GOOD.replace("family: brackenford", "family: eastmere"), reference))
    assert "Ashcombe Academy belongs to the Brackenford Family" in out


def test_bad_slug_in_file_name_is_reported(reference) -> None:
    out = messages(parse(GOOD, reference, "content/practice/Bad Name!.md"))
    assert "is not a valid slug" in out


def test_library_reports_all_bad_files_and_keeps_the_good(tmp_path: Path) -> None:
    settings = make_library(tmp_path)
    write(settings, "broken-yaml", GOOD.replace("phase: secondary", "phase: [secondary"))
    write(settings, "unknown-tag", GOOD.replace("key_stages: [ks3]", "key_stages: [ks9]"))
    (settings.practice_dir / "nested").mkdir()
    (settings.practice_dir / "nested" / "weekly-quizzes-year-7-maths.md").write_text(GOOD)
    library = load_library(settings)
    assert len(library.documents) == 7
    text = "\n".join(str(p) for p in library.errors)
    assert "broken-yaml.md" in text and "unknown-tag.md" in text
    assert "duplicate slug 'weekly-quizzes-year-7-maths'" in text
    assert len(library.skipped) == 3
