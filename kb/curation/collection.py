"""A collection: an ordered set of write-ups with curator's notes, parsed from one file (pure)."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping

from kb.content.documents import read_content_file
from kb.content.fields import FieldReader, Key
from kb.content.taxonomy import Taxonomy
from kb.errors import Problem

STATUSES = ("published", "draft")
REQUIRED = ("title", "purpose", "audience", "plan", "items", "status")
OPTIONAL = ("curator",)
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


def _audience(check: FieldReader, raw: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, dict):
        check.fail(("audience",), "must have 'subjects' and 'phases' on indented lines")
        return (), ()
    check.check_fields(AUDIENCE_FIELDS, key=("audience",))
    return (check.tags(("audience", "subjects"), "subjects", limit=20),
            check.tags(("audience", "phases"), "phase", limit=20))


def _plan(check: FieldReader, raw: Any, published: bool) -> tuple[PlanStep, ...]:
    if not isinstance(raw, list):
        check.fail(("plan",), "must be a list of steps, each with 'minutes' and 'activity'")
        return ()
    if published and not raw:
        check.fail(("plan",), "a published collection needs at least one timed activity")
    steps: list[PlanStep] = []
    for index, step in enumerate(raw):
        key: Key = ("plan", index)
        if not isinstance(step, dict):
            check.fail(key, f"step {index + 1} must have 'minutes' and 'activity'")
            continue
        check.unknown_keys(step, STEP_FIELDS, key)
        minutes = check.whole_number(key + ("minutes",), low=1, high=MAX_STEP_MINUTES,
                                     what="a whole number of minutes")
        activity = check.text(key + ("activity",))
        steps.append(PlanStep(minutes or 0, activity))
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
        key: Key = ("items", index)
        number = index + 1
        if not isinstance(entry, dict):
            check.fail(key, f"item {number} must start with 'writeup:' and the write-up's slug")
            continue
        check.unknown_keys(entry, ITEM_FIELDS, key)
        slug = check.text(key + ("writeup",), limit=80)
        if slug:
            _check_reference(check, key, number, slug, writeups)
            if slug in seen:
                check.fail(key + ("writeup",), f"item {number} repeats write-up {slug!r}, "
                                               f"already item {seen[slug]}")
            seen.setdefault(slug, number)
        why = check.text(key + ("why",), required=False)
        questions = check.text_list(key + ("questions",), required=False, limit=MAX_QUESTIONS)
        task = check.text(key + ("task",), required=False)
        missing = [name for name, value in (("why", why), ("questions", questions),
                                            ("task", task)) if not value]
        if missing and slug:
            level = "error" if published else "warning"
            check.fail(key, f"item {number} ({slug}) needs {', '.join(missing)}"
                            + ("" if published else " before the collection is published"),
                       level)
        items.append(CollectionItem(slug, why, questions, task, check.line_of(key)))
    return tuple(items)


def _check_reference(check: FieldReader, key: Key, number: int, slug: str,
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


# The text a new collection starts with; a published collection must say something of its own.
INTRO_PLACEHOLDER = ("Introduce the session here: who it is for, what the write-ups have in "
                     "common and what colleagues should leave with.")


def parse_collection(path: str, raw: bytes, taxonomy: Taxonomy, writeups: WriteupStatuses,
                     max_bytes: int = 256_000) -> CollectionResult:
    """Parse and validate one collection file's bytes; collect every problem found."""
    opened = read_content_file(path, raw, max_bytes)
    if opened.meta is None:
        return CollectionResult(None, opened.problems)
    slug, meta, body, body_line = opened.slug, opened.meta, opened.body, opened.body_line
    problems = opened.problems
    data: dict[str, Any] = meta.data
    check = FieldReader(path, meta, taxonomy)
    check.check_fields(REQUIRED, OPTIONAL)
    status = check.one_of(("status",), STATUSES)
    published = status == "published"
    title = check.text(("title",), limit=MAX_TITLE)
    purpose = check.text(("purpose",))
    curator = check.text(("curator",), limit=200, required=False)
    # Absent fields were reported above; check only what is there, to avoid echoes.
    subjects, phases = _audience(check, data["audience"]) if "audience" in data else ((), ())
    plan = _plan(check, data["plan"], published) if "plan" in data else ()
    items = _items(check, data["items"], published, writeups) if "items" in data else ()
    if published and not body.strip():
        check.problems.append(Problem(path, body_line, "body", "the collection has no "
                                      "introduction below the front matter", "warning"))
    if published and INTRO_PLACEHOLDER in body:
        check.problems.append(Problem(path, body_line, "introduction", "the introduction is "
                                      "still the template text; write your own before "
                                      "publishing"))
    problems += check.problems
    if any(p.level == "error" for p in problems):
        return CollectionResult(None, problems)
    collection = Collection(
        slug=slug, path=path, title=title, purpose=purpose, subjects=subjects, phases=phases,
        plan=plan, items=items, status=status, curator=curator, body=body.strip("\n"),
        body_line=body_line, content_hash=hashlib.sha256(raw).hexdigest())
    return CollectionResult(collection, problems)
