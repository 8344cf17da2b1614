"""Loads collections and programmes beside the write-ups, and keeps them fresh for a server."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from kb.content.documents import Document, slug_for_filename
from kb.content.files import content_files, read_regular
from kb.content.library import Library, _display_path, load_library
from kb.curation.collection import Collection, CollectionItem, parse_collection
from kb.curation.editing import CollectionEditor
from kb.curation.programme import Programme, References, Session, Slot, parse_programme
from kb.curation.search_tuning import FILE_NAME as SEARCH_TUNING_FILE
from kb.curation.search_tuning import SearchTuning, parse_search_tuning
from kb.errors import NotFoundError, Problem
from kb.settings import Settings

COLLECTION_SUFFIX = ".md"
PROGRAMME_SUFFIX = ".yaml"


@dataclass
class Curation:
    """Every valid collection and programme, the write-ups they use, and all problems found."""

    library: Library
    collections: dict[str, Collection]
    programmes: dict[str, Programme]
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    fingerprint: tuple[tuple[str, int, int], ...] = ()
    tuning: SearchTuning = field(default_factory=SearchTuning)
    # Programmes still being built on the web: only their curators' pages show them.
    draft_programmes: dict[str, Programme] = field(default_factory=dict)
    references: References = field(default_factory=lambda: References({}))

    def __post_init__(self) -> None:
        self._docs = {d.slug: d for d in self.library.documents}

    @property
    def version(self) -> str:
        """A short key that changes whenever any file behind this curation changes."""
        return hashlib.sha256(repr(self.fingerprint).encode()).hexdigest()[:16]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    def writeup(self, slug: str) -> Document | None:
        """A published write-up, or None (drafts never appear in pages or handouts)."""
        doc = self._docs.get(slug)
        return doc if doc is not None and doc.status == "published" else None

    def published_collections(self) -> list[Collection]:
        return sorted((c for c in self.collections.values() if c.status == "published"),
                      key=lambda c: c.title.casefold())

    def collection(self, slug: str, include_drafts: bool = False) -> Collection:
        """One collection by slug; drafts only when asked (for their curators' tools)."""
        found = self.collections.get(slug)
        if found is None or (found.status != "published" and not include_drafts):
            raise NotFoundError(f"there is no collection called {slug[:80]!r}")
        return found

    def programme(self, slug: str, include_drafts: bool = False) -> Programme:
        """One programme by slug; drafts only when asked (for the curators' builder)."""
        found = self.programmes.get(slug)
        if found is None and include_drafts:
            found = self.draft_programmes.get(slug)
        if found is None:
            raise NotFoundError(f"there is no programme called {slug[:80]!r}")
        return found

    def items_of(self, collection: Collection) -> list[tuple[CollectionItem, Document]]:
        """The collection's items with their published write-ups, in the curator's order."""
        out = []
        for item in collection.items:
            doc = self.writeup(item.writeup)
            if doc is not None:
                out.append((item, doc))
        return out

    def collections_using(self, writeup: str) -> list[Collection]:
        """The published collections that include a write-up."""
        return [c for c in self.published_collections() if writeup in c.writeups]

    def sessions_using(self, collection: str) -> list[tuple[Programme, Slot, Session]]:
        """Where a collection is taught: every programme session that names it."""
        return [(p, slot, s) for p in sorted(self.programmes.values(), key=lambda p: p.date)
                for slot, s in p.sessions() if s.collection == collection]


def writeup_statuses(library: Library, content_dir: Path) -> dict[str, str]:
    """Each write-up slug's status; files that failed validation count as 'invalid'."""
    statuses = {d.slug: d.status for d in library.documents}
    for shown in library.skipped:
        statuses.setdefault(slug_for_filename(shown.replace("\\", "/").rsplit("/", 1)[-1]),
                            "invalid")
    return statuses


def _files(folder: Path, suffix: str, content_dir: Path, problems: list[Problem],
           skipped: list[str]) -> list[Path]:
    """Regular files of one curation folder; links and special files are reported, not read."""
    files, refused = content_files(folder, suffix, hidden=False)
    for path, reason in refused:
        shown = _display_path(path, content_dir)
        problems.append(Problem(shown, 0, "", reason))
        skipped.append(shown)
    return files


def content_fingerprint(settings: Settings) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every file curation depends on. Hidden files
    (an atomic write's ".name.tmp") are left out, and a file that goes between listing and
    looking is skipped: the next call sees the change."""
    paths: list[str] = []
    # content/materials: attached files change handout packs and a collection's page.
    for folder in (settings.practice_dir, settings.collections_dir, settings.programmes_dir,
                   settings.content_dir / "materials"):
        if folder.is_dir():
            for root, _, names in os.walk(folder):
                paths += [os.path.join(root, n) for n in names if not n.startswith(".")]
    paths += [str(settings.content_dir / n)
              for n in ("taxonomy.yaml", "schools.yaml", SEARCH_TUNING_FILE)]
    out = []
    for path in paths:
        try:
            # lstat: a link is fingerprinted as itself, and a dangling one is no error
            stat = os.lstat(path)
        except FileNotFoundError:
            continue
        out.append((path, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(out))


def load_curation(settings: Settings, library: Library | None = None) -> Curation:
    """Parse every collection and programme; invalid files are reported and left out."""
    fingerprint = content_fingerprint(settings)
    library = library or load_library(settings)
    statuses = writeup_statuses(library, settings.content_dir)
    problems: list[Problem] = []
    skipped: list[str] = []
    collections: dict[str, Collection] = {}
    broken: set[str] = set()
    for file in _files(settings.collections_dir, COLLECTION_SUFFIX, settings.content_dir,
                       problems, skipped):
        shown = _display_path(file, settings.content_dir)
        result = parse_collection(shown, _read(file, shown, problems), library.taxonomy,
                                  statuses, settings.max_file_bytes)
        problems += result.problems
        if result.collection is None:
            skipped.append(shown)
            broken.add(slug_for_filename(file.name))
        else:
            collections[result.collection.slug] = result.collection
    refs = References(collections, frozenset(broken),
                      {d.slug: d.date for d in library.documents})
    programmes: dict[str, Programme] = {}
    drafts: dict[str, Programme] = {}
    for file in _files(settings.programmes_dir, PROGRAMME_SUFFIX, settings.content_dir,
                       problems, skipped):
        shown = _display_path(file, settings.content_dir)
        parsed = parse_programme(shown, _read(file, shown, problems), library.taxonomy, refs,
                                 settings.max_file_bytes)
        problems += parsed.problems
        if parsed.programme is None:
            skipped.append(shown)
        elif parsed.programme.status == "draft":
            drafts[parsed.programme.slug] = parsed.programme
        else:
            programmes[parsed.programme.slug] = parsed.programme
    tuning = _search_tuning(settings, library, collections, problems)
    return Curation(library, collections, programmes, problems, skipped, fingerprint, tuning,
                    drafts, refs)


def _search_tuning(settings: Settings, library: Library, collections: dict[str, Collection],
                   problems: list[Problem]) -> SearchTuning:
    """content/search.yaml, checked against the published write-ups and collections."""
    path = settings.content_dir / SEARCH_TUNING_FILE
    if not path.is_file():
        return SearchTuning()
    text = _read(path, f"content/{SEARCH_TUNING_FILE}", problems).decode("utf-8", "replace")
    tuning = parse_search_tuning(f"content/{SEARCH_TUNING_FILE}", text, library.taxonomy,
                                 {d.slug for d in library.published()},
                                 {c.slug for c in collections.values()
                                  if c.status == "published"})
    problems += tuning.problems
    return tuning


def _read(file: Path, shown: str, problems: list[Problem]) -> bytes:
    try:
        return read_regular(file)
    except OSError as exc:  # reported; an empty file then fails validation as well
        problems.append(Problem(shown, 0, "", f"cannot read the file: {exc.strerror}"))
        return b""


def collection_editor(settings: Settings, library: Library | None = None) -> CollectionEditor:
    """An editor for content/collections/ that checks write-up slugs against the library."""
    library = library or load_library(settings)
    return CollectionEditor(settings.collections_dir, library.taxonomy,
                            writeup_statuses(library, settings.content_dir),
                            settings.max_file_bytes,
                            _display_path(settings.collections_dir, settings.content_dir))


class CurationCache:
    """Hands out the current Curation, reloading it when any content file has changed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._current: Curation | None = None

    def get(self) -> Curation:
        """The curation for the files as they are now; a stat of each file per call."""
        fingerprint = content_fingerprint(self.settings)
        current = self._current
        if current is not None and current.fingerprint == fingerprint:
            return current
        with self._lock:  # one reload at a time; others wait and reuse it
            if self._current is None or self._current.fingerprint != fingerprint:
                self._current = load_curation(self.settings)
            return self._current
