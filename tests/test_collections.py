"""Collections as files: parsing, validation with file and line, canonical rewriting and editing."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, make_library
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kb.content.library import load_reference
from kb.curation.catalogue import collection_editor, load_curation
from kb.curation.collection import Collection, CollectionItem, PlanStep, parse_collection
from kb.curation.editing import RefusedChange, render_collection
from kb.errors import BadInputError, NotFoundError, ValidationError
from kb.settings import Settings

STATUSES = {"small-group-maths-tuition-year-11": "published",
            "weekly-quizzes-year-7-maths": "published",
            "unfinished-draft-on-homework": "draft", "broken-one": "invalid"}


@pytest.fixture(scope="module")
def taxonomy():  # type: ignore[no-untyped-def]
    return load_reference(ROOT / "content")[0]


def library_with_collections(base: Path) -> Settings:
    """The fixture write-ups plus the fixture collections and programme, as files."""
    settings = make_library(base)
    shutil.copytree(FIXTURES / "collections", settings.collections_dir)
    shutil.copytree(FIXTURES / "programmes", settings.programmes_dir)
    return settings


def parse(text: str, taxonomy, path: str = "content/collections/demo.md"):  # type: ignore
    return parse_collection(path, text.encode("utf-8"), taxonomy, STATUSES)


GOOD = """---
title: Demo
status: published
purpose: A purpose.
audience:
  subjects: [Maths]
  phases: [secondary]
plan:
  - minutes: 20
    activity: Read.
items:
  - writeup: small-group-maths-tuition-year-11
    why: Because.
    questions: ["Why?"]
    task: Try it.
---
Intro.
"""


def test_a_valid_collection_resolves_tags_and_keeps_order(taxonomy) -> None:  # type: ignore
    result = parse(GOOD, taxonomy)
    assert result.problems == []
    c = result.collection
    assert c is not None and c.subjects == ("maths",) and c.minutes == 20
    assert c.writeups == ("small-group-maths-tuition-year-11",)
    assert c.items[0].line == 12 and c.body == "Intro."


def test_an_item_naming_a_missing_writeup_is_an_error_at_its_line(taxonomy) -> None:  # type: ignore
    text = GOOD.replace("Intro.", "").replace("---\n\n", "---\n") + ""
    text = text.replace("    task: Try it.\n---", "    task: Try it.\n"
                        "  - writeup: small-group-maths-tuition-year-12\n"
                        "    why: x\n    questions: [q]\n    task: t\n---")
    result = parse(text, taxonomy)
    assert result.collection is None
    [problem] = [p for p in result.problems if p.level == "error"]
    assert problem.path == "content/collections/demo.md" and problem.line == 16
    assert problem.field == "items[2].writeup"
    assert "small-group-maths-tuition-year-12" in problem.message
    assert "did you mean small-group-maths-tuition-year-11" in problem.message
    assert str(problem).startswith("content/collections/demo.md:16:")


def test_every_problem_is_reported_with_its_own_line(taxonomy) -> None:  # type: ignore
    text = """---
title: ""
status: live
purpose: x
audience:
  subjects: [astrology]
  phases: [primary]
plan:
  - minutes: 0
    activity: Read.
items:
  - writeup: weekly-quizzes-year-7-maths
    why: w
    questions: [q]
    task: t
    colour: red
  - writeup: weekly-quizzes-year-7-maths
    why: w
    questions: [q]
    task: t
---
"""
    problems = {(p.line, p.field) for p in parse(text, taxonomy).problems}
    assert {(2, "title"), (3, "status"), (6, "audience.subjects"), (9, "plan[1].minutes"),
            (16, "items[1].colour"), (17, "items[2].writeup")} <= problems


def test_malformed_yaml_names_the_line(taxonomy) -> None:  # type: ignore
    result = parse("---\ntitle: Demo\nitems: [\n---\n", taxonomy)
    assert result.collection is None and result.problems[0].line >= 3
    assert "malformed YAML" in result.problems[0].message


def test_drafts_may_be_incomplete_but_warn(taxonomy) -> None:  # type: ignore
    text = """---
title: Draft
status: draft
purpose: p
audience: {subjects: [maths], phases: [secondary]}
plan: []
items:
  - writeup: unfinished-draft-on-homework
  - writeup: broken-one
---
"""
    result = parse(text, taxonomy)
    assert result.collection is not None
    warnings = [p for p in result.problems if p.level == "warning"]
    assert any("is a draft" in p.message and p.line == 8 for p in warnings)
    assert any("has errors of its own" in p.message and p.line == 9 for p in warnings)
    assert any("needs why, questions, task before" in p.message for p in warnings)
    published = parse(text.replace("status: draft", "status: published"), taxonomy)
    assert published.collection is None
    assert any("at least one timed activity" in p.message for p in published.problems)


def test_rendering_is_canonical_and_reads_back_the_same(taxonomy) -> None:  # type: ignore
    first = parse(GOOD, taxonomy).collection
    assert first is not None
    text = render_collection(first)
    again = parse(text, taxonomy).collection
    assert again is not None and render_collection(again) == text
    assert "subjects: [maths]" in text and text.endswith("Intro.\n")


texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                max_size=200).map(lambda s: " ".join(s.split())).filter(bool)


@hypothesis_settings(max_examples=60, deadline=None)
@given(title=texts, why=texts, question=texts, task=texts, activity=texts)
def test_any_text_survives_a_rewrite(taxonomy, title: str, why: str, question: str,  # type: ignore
                                     task: str, activity: str) -> None:
    original = Collection(
        slug="demo", path="demo.md", title=title[:160], purpose=why, subjects=("maths",),
        phases=("secondary",), plan=(PlanStep(10, activity),),
        items=(CollectionItem("weekly-quizzes-year-7-maths", why, (question,), task),),
        status="published", body="Body")
    back = parse(render_collection(original), taxonomy).collection
    assert back is not None
    assert (back.title, back.purpose, back.plan, back.items[0].why, back.items[0].questions,
            back.items[0].task) == (original.title, original.purpose, original.plan, why,
                                    (question,), task)


def test_the_editor_builds_reorders_and_removes(tmp_path: Path) -> None:
    settings = library_with_collections(tmp_path)
    editor = collection_editor(settings)
    editor.create("new-one", "New one", "A purpose.", ["maths"], ["secondary"], "Me")
    for slug in ("weekly-quizzes-year-7-maths", "small-group-maths-tuition-year-11",
                 "whole-class-feedback-science"):
        editor.add("new-one", slug, f"Why {slug}", [f"Question on {slug}?"], f"Task {slug}")
    moved = editor.move("new-one", "whole-class-feedback-science", 1)
    assert moved.writeups == ("whole-class-feedback-science", "weekly-quizzes-year-7-maths",
                              "small-group-maths-tuition-year-11")
    removed = editor.remove("new-one", "weekly-quizzes-year-7-maths")
    assert removed.writeups == ("whole-class-feedback-science",
                                "small-group-maths-tuition-year-11")
    editor.set_plan("new-one", [(15, "Read"), (45, "Discuss")])
    with pytest.raises(RefusedChange, match="still the template text"):
        editor.set_status("new-one", "published")  # the introduction must be written first
    editor.set_introduction("new-one", "Two write-ups on feedback.\n\nRead both first.")
    published = editor.set_status("new-one", "published")
    assert published.body == "Two write-ups on feedback.\n\nRead both first."
    assert published.status == "published" and published.minutes == 60
    on_disk = load_curation(settings).collection("new-one")
    assert on_disk.writeups == removed.writeups
    assert not [p for p in settings.collections_dir.iterdir() if p.name.startswith(".")]


def test_the_editor_refuses_changes_that_would_break_the_file(tmp_path: Path) -> None:
    settings = library_with_collections(tmp_path)
    editor = collection_editor(settings)
    path = settings.collections_dir / "maths-tuition-and-quizzes.md"
    before = path.read_bytes()
    with pytest.raises(BadInputError, match="not in content/practice"):
        editor.add("maths-tuition-and-quizzes", "no-such-writeup", "w", ["q"], "t")
    with pytest.raises(BadInputError, match="needs questions, task"):
        editor.add("maths-tuition-and-quizzes", "reading-catch-up-year-5", "why only")
    with pytest.raises(BadInputError, match="already item 2"):
        editor.add("maths-tuition-and-quizzes", "weekly-quizzes-year-7-maths", "w", ["q"], "t")
    with pytest.raises(BadInputError, match="position must be from 1 to 2"):
        editor.move("maths-tuition-and-quizzes", "weekly-quizzes-year-7-maths", 5)
    with pytest.raises(NotFoundError):
        editor.remove("maths-tuition-and-quizzes", "reading-catch-up-year-5")
    with pytest.raises(BadInputError, match="already exists"):
        editor.create("maths-tuition-and-quizzes", "t", "p", ["maths"], ["secondary"])
    with pytest.raises(BadInputError, match="slug"):
        editor.create("../escape", "t", "p", ["maths"], ["secondary"])
    assert path.read_bytes() == before
    path.write_text("---\ntitle: [\n---\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="maths-tuition-and-quizzes.md:2"):
        editor.remove("maths-tuition-and-quizzes", "weekly-quizzes-year-7-maths")


def test_concurrent_edits_are_serialised_and_none_is_lost(tmp_path: Path) -> None:
    settings = library_with_collections(tmp_path)
    editor = collection_editor(settings)
    editor.create("busy", "Busy", "p", ["maths"], ["secondary"])
    slugs = ["weekly-quizzes-year-7-maths", "small-group-maths-tuition-year-11",
             "whole-class-feedback-science", "reading-catch-up-year-5",
             "first-day-attendance-calls", "fortnightly-instructional-coaching"]
    threads = [threading.Thread(target=editor.add, args=("busy", s, "w", ["q"], "t"))
               for s in slugs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = load_curation(settings).collection("busy", include_drafts=True)
    assert sorted(final.writeups) == sorted(slugs)


def test_curation_links_writeups_collections_and_sessions(tmp_path: Path) -> None:
    curation = load_curation(library_with_collections(tmp_path))
    assert curation.errors == []
    assert [c.slug for c in curation.collections_using("weekly-quizzes-year-7-maths")] == \
        ["maths-tuition-and-quizzes"]
    assert [c.slug for c in curation.published_collections()] == \
        ["maths-tuition-and-quizzes", "reading-and-attendance"]
    with pytest.raises(NotFoundError):
        curation.collection("coaching-draft")
    assert len(curation.sessions_using("reading-and-attendance")) == 2


def test_the_bundled_collections_and_programme_are_valid_and_complete() -> None:
    curation = load_curation(Settings(content_dir=ROOT / "content"))
    assert curation.problems == [], [str(p) for p in curation.problems]
    assert len(curation.published_collections()) >= 20
    programme = curation.programme("common-inset-day-2022")
    sessions = programme.sessions()
    assert len(sessions) >= 20
    assert {s.collection for _, s in sessions} == set(curation.collections)
    for collection in curation.collections.values():
        assert collection.minutes == 60 and collection.curator and collection.body
        assert len(curation.items_of(collection)) == len(collection.items) >= 2
        for item in collection.items:
            assert item.why and item.questions and item.task
