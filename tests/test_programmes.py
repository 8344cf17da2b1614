"""Programmes as files: validation with file and line, and the day's grid with its filters."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_collections import library_with_collections

from kb.curation.catalogue import load_curation
from kb.curation.programme import References, parse_programme
from kb.curation.timetable import build_grid
from kb.settings import Settings


@pytest.fixture(scope="module")
def curation(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return load_curation(library_with_collections(tmp_path_factory.mktemp("programmes")))


def reparse(curation, text: str):  # type: ignore[no-untyped-def]
    refs = References(curation.collections, frozenset({"broken-collection"}),
                      {d.slug: d.date for d in curation.library.documents})
    return parse_programme("content/programmes/day.yaml", text.encode(), curation.library.taxonomy,
                           refs)


def fixture_text(curation) -> str:  # type: ignore[no-untyped-def]
    return (Path(__file__).parent / "fixtures" / "programmes" / "test-day.yaml").read_text()


def test_the_fixture_programme_is_valid(curation) -> None:  # type: ignore[no-untyped-def]
    programme = curation.programme("test-day")
    assert [s.start for s in programme.slots] == ["09:00", "09:30", "10:45", "11:45"]
    assert len(programme.sessions()) == 3
    assert programme.slots[1].session_for("maths").room == "r1"  # the strand's room
    assert not [p for p in curation.problems if "test-day" in p.path]


def test_an_unknown_collection_is_an_error_at_its_line(curation) -> None:  # type: ignore
    text = fixture_text(curation).replace("collection: maths-tuition-and-quizzes",
                                          "collection: maths-tuition-and-quizes")
    result = reparse(curation, text)
    assert result.programme is None
    [problem] = [p for p in result.problems if p.level == "error"]
    assert problem.path == "content/programmes/day.yaml" and problem.line == 31
    assert problem.field == "slots[2].sessions[1].collection"
    assert "unknown collection 'maths-tuition-and-quizes'" in problem.message


def test_clashes_times_and_references_are_all_reported(curation) -> None:  # type: ignore
    text = fixture_text(curation)
    text = text.replace("      - strand: english\n        collection: reading-and-attendance\n"
                        "        facilitators: [Ben Reading <ben.reading@example.org>]",
                        "      - strand: maths\n        collection: coaching-draft\n"
                        "        room: r1\n        facilitators: [Ann Maths, Someone]")
    text = text.replace("time: 10:45-11:45", "time: 10:15-09:45")
    text = text.replace("  - time: 11:45-12:15\n    title: Lunch",
                        "  - time: 12:00-12:30\n    title: Lunch\n    room: kitchen")
    problems = [(p.line, p.field, p.message) for p in reparse(curation, text).problems]
    messages = " | ".join(m for _, _, m in problems)
    assert "strand 'maths' already has a session in this slot" in messages
    assert "room 'r1' is already used in this slot" in messages
    assert "ann maths cannot lead two sessions at once" in messages
    assert "'coaching-draft' is a draft" in messages
    assert "ends at 09:45, before it starts at 10:15" in messages
    assert "unknown room 'kitchen'" in messages
    assert all(line > 0 for line, _, _ in problems)


def test_facilitators_addresses_are_kept_apart_from_their_names(curation) -> None:  # type: ignore
    session = reparse(curation, fixture_text(curation)).programme.slots[1].sessions[0]
    assert session.facilitators == ("Ann Maths",) and session.contacts == ("ann@example.org",)
    assert session.entries() == ["Ann Maths <ann@example.org>"]
    text = fixture_text(curation).replace("[Ann Maths <ann@example.org>]",
                                          "[Ann Maths <not an address>, <x@y.example>]")
    problems = [p for p in reparse(curation, text).problems if p.level == "error"]
    assert [p.field for p in problems] == ["slots[2].sessions[1].facilitators"] * 2
    assert "write a facilitator as Name (School), optionally followed by their e-mail" \
        in problems[0].message
    assert "gives an address but no name" in problems[1].message


def test_broken_collections_bad_times_and_missing_fields(curation) -> None:  # type: ignore
    text = fixture_text(curation).replace("collection: maths-tuition-and-quizzes",
                                          "collection: broken-collection")
    text = text.replace("time: 09:00-09:30", "time: 9.00")
    text = text.replace("venue: Test Hall\n", "")
    messages = [p.message for p in reparse(curation, text).problems]
    assert any("has errors of its own" in m for m in messages)
    assert any("must be a time range like 09:50-10:50" in m for m in messages)
    assert "missing required field 'venue'" in messages


def test_grid_without_filters_shows_every_strand_and_plenary(curation) -> None:  # type: ignore
    grid = build_grid(curation.programme("test-day"), curation.collections)
    assert [s.id for s in grid.strands] == ["maths", "english", "leaders"]
    assert grid.shown == grid.total == 3
    assert [r.slot.is_plenary for r in grid.rows] == [True, False, False, True]
    assert [c is not None for c in grid.rows[1].cells] == [True, True, False]


@pytest.mark.parametrize("subjects, phases, shown, strands", [
    (("maths",), (), {"maths-tuition-and-quizzes"}, ["maths"]),
    (("english",), (), {"reading-and-attendance"}, ["english", "leaders"]),
    (("whole-school",), (), {"reading-and-attendance"}, ["english", "leaders"]),
    ((), ("primary",), {"reading-and-attendance"}, ["english", "leaders"]),
    ((), ("secondary",), {"maths-tuition-and-quizzes"}, ["maths"]),
    (("maths", "english"), ("primary",), {"reading-and-attendance"}, ["english", "leaders"]),
    (("english",), ("secondary",), set(), []),
])
def test_grid_filters_by_subject_and_phase(curation, subjects, phases, shown,  # type: ignore
                                           strands) -> None:
    grid = build_grid(curation.programme("test-day"), curation.collections, subjects, phases)
    cells = [c for row in grid.rows for c in row.cells if c is not None]
    assert {c.collection.slug for c in cells} == shown
    assert [s.id for s in grid.strands] == strands
    assert grid.shown == len(cells) and grid.total == 3
    assert sum(r.slot.is_plenary for r in grid.rows) == 2  # plenaries always stay


def test_the_bundled_day_filters_to_sensible_sessions() -> None:
    curation = load_curation(Settings(content_dir=Path(__file__).parent.parent / "content"))
    programme = curation.programme("common-inset-day-2022")
    primary = build_grid(programme, curation.collections, phases=("primary",))
    titles = {c.collection.slug for row in primary.rows for c in row.cells if c}
    assert "primary-maths-keeping-everyone-up" in titles
    assert "gcse-english-writing-under-pressure" not in titles
    maths = build_grid(programme, curation.collections, subjects=("maths",))
    assert [s.id for s in maths.strands][0] == "maths" and maths.shown >= 4
