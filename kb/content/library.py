"""Walks content/ and turns every write-up file into a Document, collecting all problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kb.content.directory import Directory, load_directory
from kb.content.documents import Document, parse_document
from kb.content.files import content_files, read_regular
from kb.content.taxonomy import Taxonomy, load_taxonomy
from kb.errors import Problem
from kb.settings import Settings


@dataclass
class Library:
    """The valid documents of a content folder plus every problem found on the way."""

    documents: list[Document]
    problems: list[Problem]
    taxonomy: Taxonomy
    directory: Directory
    skipped: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    def published(self) -> list[Document]:
        return [d for d in self.documents if d.status == "published"]


def practice_files(practice_dir: Path) -> list[Path]:
    """Every regular Markdown file under the practice folder, in a stable order."""
    return content_files(practice_dir, ".md", recursive=True)[0]


def load_reference(content_dir: Path) -> tuple[Taxonomy, Directory]:
    """The taxonomy and the schools directory; raises ValidationError if either is broken."""
    return (load_taxonomy(content_dir / "taxonomy.yaml"),
            load_directory(content_dir / "schools.yaml"))


def load_library(settings: Settings) -> Library:
    """Parse every write-up; invalid files are reported in problems and left out."""
    taxonomy, directory = load_reference(settings.content_dir)
    documents: list[Document] = []
    problems: list[Problem] = []
    skipped: list[str] = []
    by_slug: dict[str, Document] = {}
    files, refused = content_files(settings.practice_dir, ".md", recursive=True)
    for file, reason in refused:
        shown = _display_path(file, settings.content_dir)
        problems.append(Problem(shown, 0, "", reason))
        skipped.append(shown)
    for file in files:
        shown = _display_path(file, settings.content_dir)
        try:
            raw = read_regular(file)
        except OSError as exc:
            problems.append(Problem(shown, 0, "", f"cannot read the file: {exc.strerror}"))
            skipped.append(shown)
            continue
        result = parse_document(shown, raw, taxonomy, directory, settings.max_file_bytes)
        problems += result.problems
        doc = result.document
        if doc is None:
            skipped.append(shown)
            continue
        if doc.slug in by_slug:
            problems.append(Problem(shown, 0, "", f"duplicate slug {doc.slug!r}: "
                                                  f"{by_slug[doc.slug].path} already uses it"))
            skipped.append(shown)
            continue
        by_slug[doc.slug] = doc
        documents.append(doc)
    return Library(documents, problems, taxonomy, directory, skipped)


def _display_path(file: Path, content_dir: Path) -> str:
    try:
        return str(file.relative_to(content_dir.parent if content_dir.parent != Path("") else
                                    Path(".")))
    except ValueError:
        return str(file)
