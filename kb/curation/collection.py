"""A collection: an ordered set of write-ups with curator's notes, parsed from one file (pure)."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping

from kb.content.documents import read_content_file
from kb.errors import Problem
from kb.content.taxonomy import Taxonomy
from kb.content.yamlfile import LocatedYaml

STATUSES = ("published", "draft")
REQUIRED = ("title", "purpose", "audience", "plan", "items", "status")
OPTIONAL = ("curator",)
KNOWN_FIELDS = REQUIRED + OPTIONAL
ITEM_FIELDS = ("writeup", "why", "questions", "task")
STEP_FIELDS = ("minutes", "activity")
AUDIENCE_FIELDS = ("subjects", "phases")
MAX_TITLE = 160
MAX_TEXT = 2_000
MAX_ITEMS = 30
MAX_QUESTIONS = 8
MAX_STEP_MINUTES = 240
MAX_PLAN_MINUTES = 480

# What a collection needs to know about each write-up slug: its status, or "invalid".
WriteupStatuses = Mapping[str, str]


@dataclass(frozen=True)
class PlanStep:
    """One timed activity of the session plan."""

    minutes: int
    activity: str


@dataclass(frozen=True)
class CollectionItem:
    """One write-up in a collection and the curator's note on it."""

    writeup: str
    why: str = ""
    questions: tuple[str, ...] = ()
    task: str = ""
    line: int = 0


@dataclass(frozen=True)
class Collection:
    """One validated collection. Audience tags hold taxonomy ids."""

    slug: str
    path: str
    title: str
    purpose: str
    subjects: tuple[str, ...]
    phases: tuple[str, ...]
    plan: tuple[PlanStep, ...]
    items: tuple[CollectionItem, ...]
    status: str
    curator: str = ""
    body: str = ""
    body_line: int = 1
    content_hash: str = ""

    @property
    def minutes(self) -> int:
        """The length of the session plan in minutes."""
        return sum(step.minutes for step in self.plan)

    @property
    def writeups(self) -> tuple[str, ...]:
        return tuple(item.writeup for item in self.items)

    def is_for(self, subjects: tuple[str, ...] = (), phases: tuple[str, ...] = ()) -> bool:
        """Filter test: OR within subjects and within phases, AND between them.

        An audience that includes the all-through phase is for every phase.
        """
        if subjects and not set(subjects) & set(self.subjects):
            return False
        return not phases or "all-through" in self.phases or bool(set(phases) & set(self.phases))

    def position_of(self, writeup: str) -> int | None:
        """The 1-based position of a write-up in this collection, or None."""
        for index, item in enumerate(self.items, start=1):
            if item.writeup == writeup:
                return index
        return None


@dataclass
class CollectionResult:
    collection: Collection | None
    problems: list[Problem] = field(default_factory=list)


class FieldReader:
    """Reads typed values out of located YAML, recording a problem (with its line) per fault."""

    def __init__(self, path: str, meta: LocatedYaml) -> None:
        self.path, self.meta = path, meta
        self.problems: list[Problem] = []

    def fail(self, key: tuple[str, ...], message: str, level: str = "error") -> None:
        line = self.meta.line_of(*key, default=1)
        self.problems.append(Problem(self.path, line, _field_name(key), message, level))

    def text(self, value: Any, key: tuple[str, ...], limit: int = MAX_TEXT,
             required: bool = True) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be non-empty text, got {describe(value)}")
            return ""
        if len(value) > limit:
            self.fail(key, f"is {len(value)} characters; keep it under {limit}")
        return " ".join(value.split())

    def text_list(self, value: Any, key: tuple[str, ...], limit: int) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, f"must be a list of text items, got {describe(value)}")
            return ()
        if len(value) > limit:
            self.fail(key, f"has {len(value)} entries; give at most {limit}")
        return tuple(" ".join(v.split()) for v in value)

    def unknown_keys(self, mapping: dict[Any, Any], known: tuple[str, ...],
                     key: tuple[str, ...]) -> None:
        for name in mapping:
            if str(name) not in known:
                near = difflib.get_close_matches(str(name), known, n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                self.fail(key + (str(name),), f"unknown field '{name}'{hint}")


def _field_name(key: tuple[str, ...]) -> str:
    """('items', '2', 'writeup') -> 'items[3].writeup' (people count from one)."""
    out = ""
    for part in key:
        if part.isdigit():
            out += f"[{int(part) + 1}]"
        else:
            out += f".{part}" if out else part
    return out


def describe(value: Any) -> str:
    """A short description of a wrongly typed YAML value for error messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"yes/no value {value} (put text in quotes)"
    return f"{type(value).__name__} {str(value)[:40]!r}"


def _audience(check: FieldReader, raw: Any, taxonomy: Taxonomy) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, dict):
        check.fail(("audience",), "must have 'subjects' and 'phases' on indented lines")
        return (), ()
    check.unknown_keys(raw, AUDIENCE_FIELDS, ("audience",))
    out: list[tuple[str, ...]] = []
    for key, field_name in (("subjects", "subjects"), ("phases", "phase")):
        ids: list[str] = []
        tags = check.text_list(raw.get(key), ("audience", key), limit=20)
        if key in raw and not tags and isinstance(raw.get(key), list):
            check.fail(("audience", key), "must list at least one term")
        for tag in tags:
            term = taxonomy.for_field(field_name).resolve(tag)
            if term is None:
                check.fail(("audience", key), taxonomy.unknown_tag_message(field_name, tag))
            elif term not in ids:
                ids.append(term)
        out.append(tuple(ids))
    return out[0], out[1]


def _plan(check: FieldReader, raw: Any, published: bool) -> tuple[PlanStep, ...]:
    if not isinstance(raw, list):
        check.fail(("plan",), "must be a list of steps, each with 'minutes' and 'activity'")
        return ()
    if published and not raw:
        check.fail(("plan",), "a published collection needs at least one timed activity")
    steps: list[PlanStep] = []
    for index, step in enumerate(raw):
        key = ("plan", str(index))
        if not isinstance(step, dict):
            check.fail(key, f"step {index + 1} must have 'minutes' and 'activity'")
            continue
        check.unknown_keys(step, STEP_FIELDS, key)
        minutes = step.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) \
                or not 1 <= minutes <= MAX_STEP_MINUTES:
            check.fail(key + ("minutes",), f"must be a whole number of minutes from 1 to "
                                           f"{MAX_STEP_MINUTES}, got {describe(minutes)}")
            minutes = 0
        activity = check.text(step.get("activity"), key + ("activity",))
        steps.append(PlanStep(minutes, activity))
    total = sum(s.minutes for s in steps)
    if total > MAX_PLAN_MINUTES:
        check.fail(("plan",), f"the plan runs {total} minutes; a session can be at most "
                              f"{MAX_PLAN_MINUTES}")
    return tuple(steps)


def _items(check: FieldReader, raw: Any, published: bool,
           writeups: WriteupStatuses) -> tuple[CollectionItem, ...]:
    if not isinstance(raw, list):
        check.fail(("items",), "must be a list of write-ups, each starting '- writeup: slug'")
        return ()
    if published and not raw:
        check.fail(("items",), "a published collection needs at least one write-up")
    if len(raw) > MAX_ITEMS:
        check.fail(("items",), f"has {len(raw)} write-ups; keep a collection to {MAX_ITEMS}")
    items: list[CollectionItem] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        key = ("items", str(index))
        number = index + 1
        if not isinstance(entry, dict):
            check.fail(key, f"item {number} must start with 'writeup:' and the write-up's slug")
            continue
        check.unknown_keys(entry, ITEM_FIELDS, key)
        slug = check.text(entry.get("writeup"), key + ("writeup",), limit=80)
        if slug:
            _check_reference(check, key, number, slug, writeups)
            if slug in seen:
                check.fail(key + ("writeup",), f"item {number} repeats write-up {slug!r}, "
                                               f"already item {seen[slug]}")
            seen.setdefault(slug, number)
        why = check.text(entry.get("why"), key + ("why",), required=False)
        questions = () if entry.get("questions") is None else \
            check.text_list(entry.get("questions"), key + ("questions",), MAX_QUESTIONS)
        task = check.text(entry.get("task"), key + ("task",), required=False)
        missing = [name for name, value in (("why", why), ("questions", questions),
                                            ("task", task)) if not value]
        if missing and slug:
            level = "error" if published else "warning"
            check.fail(key, f"item {number} ({slug}) needs {', '.join(missing)}"
                            + ("" if published else " before the collection is published"),
                       level)
        items.append(CollectionItem(slug, why, questions, task, check.meta.line_of(*key)))
    return tuple(items)


def _check_reference(check: FieldReader, key: tuple[str, ...], number: int, slug: str,
                     writeups: WriteupStatuses) -> None:
    where = key + ("writeup",)
    status = writeups.get(slug)
    if status is None:
        near = difflib.get_close_matches(slug, list(writeups), n=2, cutoff=0.6)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        check.fail(where, f"item {number} names write-up {slug!r}, which is not in "
                          f"content/practice/{hint}")
    elif status == "invalid":
        check.fail(where, f"item {number}: write-up {slug!r} has errors of its own and is "
                          "left out until they are fixed (run `kb validate`)", "warning")
    elif status == "draft":
        check.fail(where, f"item {number}: write-up {slug!r} is a draft and is left out of "
                          "pages and handouts until it is published", "warning")


def parse_collection(path: str, raw: bytes, taxonomy: Taxonomy, writeups: WriteupStatuses,
                     max_bytes: int = 256_000) -> CollectionResult:
    """Parse and validate one collection file's bytes; collect every problem found."""
    opened = read_content_file(path, raw, max_bytes)
    if opened.meta is None:
        return CollectionResult(None, opened.problems)
    slug, meta, body, body_line = opened.slug, opened.meta, opened.body, opened.body_line
    problems = opened.problems
    data: dict[str, Any] = meta.data
    check = FieldReader(path, meta)
    for name in REQUIRED:
        if name not in data:
            check.fail((), f"missing required field '{name}'")
    check.unknown_keys(data, KNOWN_FIELDS, ())
    status = check.text(data.get("status"), ("status",))
    if status and status not in STATUSES:
        check.fail(("status",), f"must be one of {', '.join(STATUSES)}, got {status!r}")
    published = status == "published"
    title = check.text(data.get("title"), ("title",), limit=MAX_TITLE)
    purpose = check.text(data.get("purpose"), ("purpose",))
    curator = check.text(data.get("curator"), ("curator",), limit=200, required=False)
    # Absent fields were reported above; check only what is there, to avoid echoes.
    subjects, phases = (_audience(check, data["audience"], taxonomy) if "audience" in data
                        else ((), ()))
    plan = _plan(check, data["plan"], published) if "plan" in data else ()
    items = _items(check, data["items"], published, writeups) if "items" in data else ()
    if published and not body.strip():
        check.problems.append(Problem(path, body_line, "body", "the collection has no "
                                      "introduction below the front matter", "warning"))
    problems += check.problems
    if any(p.level == "error" for p in problems):
        return CollectionResult(None, problems)
    collection = Collection(
        slug=slug, path=path, title=title, purpose=purpose, subjects=subjects, phases=phases,
        plan=plan, items=items, status=status, curator=curator, body=body.strip("\n"),
        body_line=body_line, content_hash=hashlib.sha256(raw).hexdigest())
    return CollectionResult(collection, problems)
