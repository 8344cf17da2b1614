"""The one field reader shared by write-ups, collections and programmes: plain words, file,
line and field for every fault."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kb.content.fields import FieldReader, describe, field_label
from kb.content.taxonomy import load_taxonomy
from kb.content.yamlfile import load_located

TAXONOMY = load_taxonomy(Path(__file__).resolve().parent.parent / "content" / "taxonomy.yaml")


def reader(text: str) -> FieldReader:
    return FieldReader("content/x.md", load_located(text, line_offset=1), TAXONOMY)


def messages(check: FieldReader) -> list[str]:
    return [str(p) for p in check.problems]


@pytest.mark.parametrize("value, words", [
    (None, "nothing"), ("   ", "nothing"), ("last june", "text 'last june'"),
    (5, "number 5"), (True, "yes/no value True (put text in quotes)"),
    ([1, 2], "a list of 2"), ({"a": 1}, "indented fields"), (dt.date(2024, 1, 2),
                                                          "date 2024-01-02"),
])
def test_describe_names_a_value_in_plain_words(value: object, words: str) -> None:
    assert describe(value) == words


def test_field_labels_count_list_items_from_one_and_keep_numeric_keys() -> None:
    assert field_label(("items", 2, "why")) == "items[3].why"
    assert field_label(("evidence", "strength")) == "evidence.strength"
    assert field_label(("rooms", "1", "name")) == "rooms.1.name"  # a room called 1, not [2]


def test_missing_and_unknown_fields_are_reported_once_each_with_a_hint() -> None:
    check = reader("titel: Reading aloud\nsummary: ok\n")
    check.check_fields(("title", "summary"), ("curator",))
    assert check.text(("title",)) == "" and check.text(("summary",)) == "ok"
    assert messages(check) == [
        "content/x.md:1: missing required field 'title'",
        "content/x.md:2: [titel] unknown field 'titel'; did you mean 'title'?",
    ]


def test_values_are_found_by_key_path_with_their_lines() -> None:
    check = reader("items:\n  - writeup: a\n  - writeup: b\n    why: 5\n"
                   "rooms:\n  1: {name: Hall}\n")
    assert check.text(("items", 1, "writeup")) == "b"
    assert check.text(("rooms", "1", "name")) == "Hall"
    assert check.text(("items", 1, "why")) == ""
    assert messages(check) == ["content/x.md:5: [items[2].why] must be non-empty text, "
                               "got number 5"]


def test_text_lists_tags_and_numbers_are_checked_by_type() -> None:
    check = reader("authors: yes\nsubjects: [Maths, mathz]\nphases: []\nminutes: 500\n"
                   "capacity: true\n")
    assert check.text_list(("authors",)) == ()
    assert check.tags(("subjects",), "subjects") == ("maths",)
    assert check.tags(("phases",), "phase") == ()
    assert check.whole_number(("minutes",), low=1, high=240, what="a whole number of minutes") \
        is None
    assert check.whole_number(("capacity",), low=1, what="a whole number of seats") is None
    assert messages(check) == [
        "content/x.md:2: [authors] must be a list of text items, like [a, b]; got yes/no value "
        "True (put text in quotes)",
        "content/x.md:3: [subjects] unknown subjects tag 'mathz'; did you mean maths, "
        "whole-school? (terms are listed in taxonomy.yaml)",
        "content/x.md:4: [phases] must list at least one item",
        "content/x.md:5: [minutes] must be a whole number of minutes from 1 to 240, got "
        "number 500",
        "content/x.md:6: [capacity] must be a whole number of seats of at least 1, got yes/no "
        "value True (put text in quotes)",
    ]


@pytest.mark.parametrize("written, message", [
    ("'2024-02-30'", "2024-02-30 is not a real date: February 2024 has 29 days"),
    ("'2023-02-29'", "2023-02-29 is not a real date: February 2023 has 28 days"),
    ("'2024-13-45'", "2024-13-45 is not a real date: there is no month 13"),
    ("30/02/2024", "must be a date written YYYY-MM-DD, got '30/02/2024', which is not a real "
                   "date either (February 2024 has 29 days)"),
    ("01/02/2024", "must be a date written YYYY-MM-DD, got '01/02/2024'; write it year first: "
                   "2024-02-01"),
    ("last june", "must be a date written YYYY-MM-DD, got text 'last june'"),
    ("0224-06-01", "must be a date written YYYY-MM-DD; the year 224 looks like a typo"),
    ("20240601", "must be a date written YYYY-MM-DD, got number 20240601"),
])
def test_a_date_that_is_no_real_date_is_named_with_its_line(written: str, message: str) -> None:
    check = reader(f"title: x\ndate: {written}\n")
    assert check.date(("date",)) is None
    assert messages(check) == [f"content/x.md:3: [date] {message}"]


@pytest.mark.parametrize("written", ["2024-02-29", "'2024-02-29'", "2024-02-29 09:30:00"])
def test_real_dates_are_read_quoted_or_not(written: str) -> None:
    check = reader(f"date: {written}\n")
    assert check.date(("date",)) == dt.date(2024, 2, 29) and not check.problems
