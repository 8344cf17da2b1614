"""`kb collection` and `kb programme` through click's CliRunner, with exports read back."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from pypdf import PdfReader
from test_collections import library_with_collections

from cli.main import cli
from kb.curation.catalogue import load_curation
from kb.settings import Settings

NOTES = {
    "weekly-quizzes-year-7-maths": ("Mixing old topics makes pupils choose a method.",
                                    "Which topics fade first?", "Run a ten-question quiz."),
    "small-group-maths-tuition-year-11": ("Groups of three built on shared gaps.",
                                          "Who decides which pupils are tutored?",
                                          "Group your pupils by their mock errors."),
    "whole-class-feedback-science": ("One sheet for the whole class saves hours.",
                                     "What do pupils do with feedback?",
                                     "Fill in one sheet for your next set of books."),
}


def run(settings: Settings, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(
        cli, ["--content-dir", str(settings.content_dir), "--data-dir", str(settings.data_dir),
              *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def flat(text: str) -> str:
    """Text as a reader sees it: ligatures unfolded, every run of whitespace one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def assert_in_order(text: str, needles: list[str]) -> None:
    """Each needle appears after the previous one."""
    haystack, at = flat(text), 0
    for needle in needles:
        found = haystack.find(flat(needle), at)
        assert found >= 0, f"{needle!r} not found after position {at}"
        at = found + len(flat(needle))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def built_by_cli(tmp_path: Path) -> Settings:
    """A collection made, filled, reordered and published with `kb collection` commands."""
    settings = library_with_collections(tmp_path)
    out = run(settings, "collection", "new", "cli-made", "--title", "Made on the command line",
              "--purpose", "Three write-ups for a department meeting.", "--subject", "Maths",
              "--phase", "secondary", "--curator", "Casey Curator",
              "--step", "10", "Welcome", "--step", "50", "Read and discuss")
    run(settings, "collection", "introduce", "cli-made", "Three ways to check learning.")
    assert "Created" in out and "cli-made (draft): 0 write-ups, 60-minute plan" in out
    for slug, (why, question, task) in NOTES.items():
        run(settings, "collection", "add", "cli-made", slug, "--note", why,
            "--question", question, "--task", task)
    out = run(settings, "collection", "move", "cli-made", "whole-class-feedback-science", "1")
    assert out.strip().endswith("whole-class-feedback-science, weekly-quizzes-year-7-maths, "
                                "small-group-maths-tuition-year-11")
    run(settings, "collection", "status", "cli-made", "published")
    return settings


ORDER = ["whole-class-feedback-science", "weekly-quizzes-year-7-maths",
         "small-group-maths-tuition-year-11"]


def test_a_collection_built_with_the_cli_is_a_valid_file(built_by_cli: Settings) -> None:
    text = (built_by_cli.collections_dir / "cli-made.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: Made on the command line\nstatus: published\n")
    assert "subjects: [maths]" in text
    assert [m.group(1) for m in re.finditer(r"- writeup: (\S+)", text)] == ORDER
    listing = run(built_by_cli, "collection", "list")
    assert re.search(r"cli-made\s+published\s+3 write-ups\s+60 min", listing)
    assert "maths-tuition-and-quizzes" in listing
    shown = run(built_by_cli, "collection", "show", "cli-made")
    assert shown.index("whole-class-feedback-science") < shown.index("weekly-quizzes")
    assert "4 of 4 collections and 1 of 1 programmes valid" in run(built_by_cli, "validate")


def test_reorder_remove_and_annotate_from_the_cli(built_by_cli: Settings) -> None:
    run(built_by_cli, "collection", "move", "cli-made", "small-group-maths-tuition-year-11", "2")
    run(built_by_cli, "collection", "remove", "cli-made", "whole-class-feedback-science")
    run(built_by_cli, "collection", "annotate", "cli-made", "weekly-quizzes-year-7-maths",
        "--task", "A new task.")
    c = load_curation(built_by_cli).collection("cli-made")
    assert c.writeups == ("small-group-maths-tuition-year-11", "weekly-quizzes-year-7-maths")
    assert c.items[1].task == "A new task." and c.items[1].why == NOTES[c.writeups[1]][0]
    out = run(built_by_cli, "collection", "add", "cli-made", "nope", "--note", "x",
              "--question", "q", "--task", "t", code=1)
    assert "Error: the change was not saved" in out and "'nope'" in out
    out = run(built_by_cli, "collection", "move", "cli-made", "nope", "1", code=1)
    assert "'nope' is not in collection cli-made" in out


def test_export_pdf_has_every_title_and_note_in_order(built_by_cli: Settings,
                                                      tmp_path: Path) -> None:
    target = tmp_path / "out" / "handout.pdf"
    out = run(built_by_cli, "collection", "export", "cli-made", "--format", "pdf", "-o",
              str(target), "--base-url", "https://practice.example.org")
    assert "3 write-ups" in out
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and len(PdfReader(io.BytesIO(data)).pages) >= 4
    curation = load_curation(built_by_cli)
    text = pdf_text(data)
    needles = ["Made on the command line", "Session plan", "Welcome", "Read and discuss"]
    for slug in ORDER:
        why, question, task = NOTES[slug]
        needles += [curation.writeup(slug).title, why, question, task]  # type: ignore[union-attr]
    assert_in_order(text, needles)
    assert "https://practice.example.org/practice/whole-class-feedback-science" in flat(text)


def test_export_html_and_markdown_zip(built_by_cli: Settings, tmp_path: Path) -> None:
    html_path, zip_path = tmp_path / "h.html", tmp_path / "h.zip"
    run(built_by_cli, "collection", "export", "cli-made", "--format", "html", "-o",
        str(html_path))
    html = html_path.read_text(encoding="utf-8")
    assert html.count("<h1") == 1 and "<style>" in html and "break-before: page" in html
    assert_in_order(html, [NOTES[s][0] for s in ORDER])
    run(built_by_cli, "collection", "export", "cli-made", "--format", "md", "-o",
        str(zip_path))
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert names == ["cli-made/00-session.md"] + [
            f"cli-made/{n:02d}-{slug}.md" for n, slug in enumerate(ORDER, start=1)]
        cover = archive.read(names[0]).decode()
        first = archive.read(names[1]).decode()
    assert "| 10 | Welcome |" in cover and "## Introduction" in cover
    assert first.startswith("# 1. ") and NOTES[ORDER[0]][0] in first
    assert "### Context" in first or "### What we did" in first  # write-up headings nested


def test_export_of_an_unknown_collection_fails_cleanly(built_by_cli: Settings,
                                                       tmp_path: Path) -> None:
    out = run(built_by_cli, "collection", "export", "nope", "--format", "pdf", "-o",
              str(tmp_path / "x.pdf"), code=1)
    assert "there is no collection called 'nope'" in out and not (tmp_path / "x.pdf").exists()


def test_validate_reports_an_invalid_collection_with_file_and_line(tmp_path: Path) -> None:
    settings = library_with_collections(tmp_path)
    path = settings.collections_dir / "maths-tuition-and-quizzes.md"
    path.write_text(path.read_text().replace("writeup: weekly-quizzes-year-7-maths",
                                             "writeup: weekly-quizes-year-7-maths"))
    out = run(settings, "validate", code=1)
    assert re.search(r"collections/maths-tuition-and-quizzes\.md:23: \[items\[2\]\.writeup\] "
                     r"item 2 names write-up 'weekly-quizes-year-7-maths'", out), out
    assert "2 of 3 collections and 0 of 1 programmes valid" in out
    assert "unknown collection 'maths-tuition-and-quizzes'" not in out  # said once, as broken
    assert "has errors of its own" in out


def test_programme_export_is_a_one_page_timetable(tmp_path: Path) -> None:
    settings = Settings(content_dir=ROOT / "content", data_dir=tmp_path / "var")
    assert "common-inset-day-2022" in run(settings, "programme", "list")
    target = tmp_path / "day.pdf"
    run(settings, "programme", "export", "common-inset-day-2022", "--format", "pdf", "-o",
        str(target))
    reader = PdfReader(str(target))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    curation = load_curation(settings)
    programme = curation.programme("common-inset-day-2022")
    for _, session in programme.sessions():
        assert flat(curation.collections[session.collection].title)[:25] in flat(text)
    run(settings, "programme", "export", "common-inset-day-2022", "--format", "html", "-o",
        str(tmp_path / "day.html"))
    assert "Workshops, round 4" in (tmp_path / "day.html").read_text()
