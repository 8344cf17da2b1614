"""Editing collection files: canonical rendering, validation before writing, atomic replacement."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from kb.content.documents import SLUG_RE
from kb.content.taxonomy import Taxonomy
from kb.curation.collection import (
    INTRO_PLACEHOLDER,
    STATUSES,
    Collection,
    CollectionItem,
    PlanStep,
    WriteupStatuses,
    parse_collection,
)
from kb.errors import BadInputError, KBError, NotFoundError, Problem, ValidationError


class _FlowList(list):  # type: ignore[type-arg]
    """A short list written on one line, like [english, maths]."""


class _Dumper(yaml.SafeDumper):
    """Block style, indented lists, folded long text: files that read well and diff well."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _represent_text(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else (">" if len(value) > 72 else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_flow(dumper: _Dumper, value: _FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(_FlowList, _represent_flow)


def front_matter_of(collection: Collection) -> dict[str, Any]:
    """The collection as plain data in the canonical field order."""
    data: dict[str, Any] = {"title": collection.title, "status": collection.status}
    if collection.curator:
        data["curator"] = collection.curator
    data["purpose"] = collection.purpose
    data["audience"] = {"subjects": _FlowList(collection.subjects),
                        "phases": _FlowList(collection.phases)}
    data["plan"] = [{"minutes": s.minutes, "activity": s.activity} for s in collection.plan]
    items = []
    for item in collection.items:
        entry: dict[str, Any] = {"writeup": item.writeup}
        if item.why:
            entry["why"] = item.why
        if item.questions:
            entry["questions"] = list(item.questions)
        if item.task:
            entry["task"] = item.task
        items.append(entry)
    data["items"] = items
    return data


def render_collection(collection: Collection) -> str:
    """The file text of a collection: YAML front matter, then the Markdown introduction."""
    data = front_matter_of(collection)
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=80,
                     default_flow_style=False)
    if yaml.safe_load(text) != _plain(data):  # never write what would read back differently
        raise KBError(f"cannot write {collection.slug} faithfully; please report this")
    body = collection.body.strip("\n")
    return f"---\n{text}---\n\n{body}\n" if body else f"---\n{text}---\n"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder so that two edits never interleave."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, fsync, then rename it into place."""
    write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """The same for bytes (uploaded materials): a reader sees the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class RefusedChange(BadInputError):
    """A change that would make the collection invalid; `problems` say which fields."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


class FolderEditor:
    """What the editors of one folder of content files share: one file per slug (`SUFFIX`),
    named in messages as the project shows it (`shown_dir`), read for a change or refused."""

    SUFFIX = ""
    NOUN = ""  # "collection", "programme": in messages

    def __init__(self, folder: Path, max_bytes: int, shown_dir: str) -> None:
        self.dir, self.max_bytes, self.shown_dir = folder, max_bytes, shown_dir

    def path_of(self, slug: str) -> Path:
        if not SLUG_RE.match(slug):
            raise BadInputError(f"{self.NOUN} slug {slug[:80]!r} must be lower-case letters, "
                                "digits and hyphens")
        return self.dir / f"{slug}{self.SUFFIX}"

    def shown(self, slug: str) -> str:
        return f"{self.shown_dir}/{slug}{self.SUFFIX}"

    def read(self, slug: str) -> bytes:
        """The file as it is now; NotFoundError names the folder."""
        try:
            return self.path_of(slug).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"there is no {self.NOUN} {slug!r} in {self.shown_dir}/") \
                from None

    def broken(self, slug: str, problems: list[Problem]) -> ValidationError:
        """The refusal to edit a file that is already invalid, with its errors."""
        return ValidationError([p for p in problems if p.level == "error"]
                               + [Problem(self.shown(slug), 0, "", "fix these problems in the "
                                          "file before editing it here")])


class CollectionEditor(FolderEditor):
    """Changes collection files; every change is validated before the file is replaced."""

    SUFFIX, NOUN = ".md", "collection"

    def __init__(self, collections_dir: Path, taxonomy: Taxonomy, writeups: WriteupStatuses,
                 max_bytes: int = 256_000, shown_dir: str = "content/collections") -> None:
        super().__init__(collections_dir, max_bytes, shown_dir)
        self.taxonomy, self.writeups = taxonomy, writeups

    def create(self, slug: str, title: str, purpose: str, subjects: list[str],
               phases: list[str], curator: str = "", status: str = "draft",
               introduction: str = "") -> Collection:
        """Write a new collection file; never overwrite an existing one."""
        path = self.path_of(slug)
        # Write taxonomy ids, not whatever alias was typed; unknown tags are reported below.
        subjects = [self.taxonomy.for_field("subjects").resolve(s) or s for s in subjects]
        phases = [self.taxonomy.for_field("phase").resolve(p) or p for p in phases]
        draft = Collection(slug=slug, path=str(path), title=title.strip(),
                           purpose=purpose.strip(), subjects=tuple(subjects),
                           phases=tuple(phases), plan=(), items=(), status=status,
                           curator=curator.strip(), body=introduction or INTRO_PLACEHOLDER)
        with locked(self.dir):
            if path.exists():
                raise BadInputError(f"{self.shown(slug)} already exists; choose another slug")
            return self._save(path, draft)

    def add(self, slug: str, writeup: str, why: str = "", questions: list[str] | None = None,
            task: str = "", position: int | None = None) -> Collection:
        """Add a write-up with its note, at the end or at a 1-based position."""
        def change(c: Collection) -> Collection:
            if c.position_of(writeup):
                raise BadInputError(f"{writeup!r} is already item {c.position_of(writeup)} "
                                    f"of {slug}")
            items = list(c.items)
            at = len(items) if position is None else self._index(position, len(items) + 1)
            items.insert(at, CollectionItem(writeup, why.strip(), tuple(questions or ()),
                                            task.strip()))
            return dataclasses.replace(c, items=tuple(items))
        return self._edit(slug, change)

    def move(self, slug: str, writeup: str, position: int) -> Collection:
        """Move a write-up to a 1-based position; the others keep their order."""
        def change(c: Collection) -> Collection:
            items = list(c.items)
            item = items.pop(self._require(c, writeup) - 1)
            items.insert(self._index(position, len(items) + 1), item)
            return dataclasses.replace(c, items=tuple(items))
        return self._edit(slug, change)

    def remove(self, slug: str, writeup: str) -> Collection:
        """Take a write-up and its note out of the collection."""
        def change(c: Collection) -> Collection:
            self._require(c, writeup)
            return dataclasses.replace(c, items=tuple(i for i in c.items
                                                      if i.writeup != writeup))
        return self._edit(slug, change)

    def annotate(self, slug: str, writeup: str, why: str | None = None,
                 questions: list[str] | None = None, task: str | None = None) -> Collection:
        """Replace parts of the curator's note on one write-up (None keeps a part)."""
        def change(c: Collection) -> Collection:
            index = self._require(c, writeup) - 1
            old = c.items[index]
            new = dataclasses.replace(
                old, why=old.why if why is None else why.strip(),
                questions=old.questions if questions is None else tuple(questions),
                task=old.task if task is None else task.strip())
            items = list(c.items)
            items[index] = new
            return dataclasses.replace(c, items=tuple(items))
        return self._edit(slug, change)

    def set_plan(self, slug: str, steps: list[tuple[int, str]]) -> Collection:
        """Replace the session plan with these (minutes, activity) steps."""
        plan = tuple(PlanStep(minutes, activity.strip()) for minutes, activity in steps)
        return self._edit(slug, lambda c: dataclasses.replace(c, plan=plan))

    def set_details(self, slug: str, title: str, purpose: str, subjects: list[str],
                    phases: list[str], curator: str = "") -> Collection:
        """Replace the title, purpose, audience and curator's name."""
        subjects = [self.taxonomy.for_field("subjects").resolve(s) or s for s in subjects]
        phases = [self.taxonomy.for_field("phase").resolve(p) or p for p in phases]
        return self._edit(slug, lambda c: dataclasses.replace(
            c, title=title.strip(), purpose=purpose.strip(), subjects=tuple(subjects),
            phases=tuple(phases), curator=curator.strip()))

    def set_introduction(self, slug: str, text: str) -> Collection:
        """Replace the Markdown introduction below the front matter."""
        body = "\n".join(line.rstrip() for line in text.strip().splitlines())
        return self._edit(slug, lambda c: dataclasses.replace(c, body=body))

    def set_status(self, slug: str, status: str) -> Collection:
        """Publish a collection or take it back to draft."""
        if status not in STATUSES:
            raise BadInputError(f"status must be one of {', '.join(STATUSES)}")
        return self._edit(slug, lambda c: dataclasses.replace(c, status=status))

    def _edit(self, slug: str, change: Callable[[Collection], Collection]) -> Collection:
        with locked(self.dir):
            result = parse_collection(self.shown(slug), self.read(slug), self.taxonomy,
                                      self.writeups, self.max_bytes)
            if result.collection is None:
                raise self.broken(slug, result.problems)
            return self._save(self.path_of(slug), change(result.collection))

    def _save(self, path: Path, collection: Collection) -> Collection:
        text = render_collection(collection)
        result = parse_collection(self.shown(collection.slug), text.encode("utf-8"),
                                  self.taxonomy, self.writeups, self.max_bytes)
        if result.collection is None:
            errors = [p for p in result.problems if p.level == "error"]
            raise RefusedChange("the change was not saved, because the collection would not "
                                "be valid:\n" + "\n".join(f"  {p.field}: {p.message}"
                                                          for p in errors), errors)
        write_atomically(path, text)
        return result.collection

    @staticmethod
    def _require(collection: Collection, writeup: str) -> int:
        position = collection.position_of(writeup)
        if position is None:
            raise NotFoundError(f"{writeup!r} is not in collection {collection.slug}")
        return position

    @staticmethod
    def _index(position: int, size: int) -> int:
        if not 1 <= position <= size:
            raise BadInputError(f"position must be from 1 to {size}, got {position}")
        return position - 1
