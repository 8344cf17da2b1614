"""A practice write-up: the Document dataclass and parsing one file's bytes into it (pure)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from kb.content.directory import Directory
from kb.content.fields import FieldReader
from kb.content.taxonomy import Taxonomy
from kb.content.yamlfile import LocatedYaml, YamlSyntaxError, load_located
from kb.errors import Problem

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
STATUSES = ("published", "draft")
SECTIONS = ("Context", "What we did", "Impact", "What we would change", "How to adopt it")
REQUIRED = ("title", "summary", "school", "family", "authors", "date", "phase", "key_stages",
            "subjects", "interventions", "evidence", "status")
OPTIONAL = ("pupil_groups", "review_due")
MAX_TITLE = 160
MAX_SUMMARY = 600


@dataclass(frozen=True)
class Document:
    """One validated write-up. Tag fields hold taxonomy ids."""

    slug: str
    path: str
    title: str
    summary: str
    school: str
    school_name: str
    family: str
    family_name: str
    authors: tuple[str, ...]
    date: dt.date
    phase: str
    key_stages: tuple[str, ...]
    subjects: tuple[str, ...]
    interventions: tuple[str, ...]
    pupil_groups: tuple[str, ...]
    evidence_strength: str
    evidence_measure: str
    status: str
    body: str
    content_hash: str
    review_due: dt.date
    body_line: int = 1

    @property
    def year(self) -> int:
        return self.date.year

    def tags(self, field_name: str) -> tuple[str, ...]:
        """The ids in a tag field, as a tuple even for single-valued fields."""
        value = getattr(self, field_name)
        return value if isinstance(value, tuple) else (value,)


@dataclass
class ParseResult:
    document: Document | None
    problems: list[Problem] = field(default_factory=list)


def slug_for_filename(name: str) -> str:
    return name[:-3] if name.endswith(".md") else name


def decode_text(path: str, raw: bytes, max_bytes: int) -> tuple[str | None, list[Problem]]:
    """Check size and encoding; return normalised text (no BOM, LF line ends) or problems."""
    if not raw.strip():
        return None, [Problem(path, 0, "", "file is empty")]
    if len(raw) > max_bytes:
        return None, [Problem(path, 0, "", f"file is {len(raw):,} bytes; the limit is "
                                          f"{max_bytes:,} (split it or trim it)")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(path, line, "", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
                                              f"offset {exc.start}); save the file as UTF-8")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [Problem(path, line, "", "contains a NUL character")]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


def split_front_matter(path: str, text: str) -> tuple[str, str, int, list[Problem]]:
    """Return (yaml text, body, first body line) or a problem when the fences are missing."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return "", "", 0, [Problem(path, 1, "", "no front matter: the file must start with a "
                                                "line '---', then YAML fields, then '---'")]
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1:]), i + 2, []
    return "", "", 0, [Problem(path, 1, "", "front matter is not closed by a '---' line")]


@dataclass
class ContentFile:
    """A content file's slug, YAML mapping and body, or the problems that stopped reading it."""

    slug: str
    meta: LocatedYaml | None
    body: str = ""
    body_line: int = 1
    problems: list[Problem] = field(default_factory=list)


def read_content_file(path: str, raw: bytes, max_bytes: int, front_matter: bool = True,
                      what: str = "front matter") -> ContentFile:
    """The steps every content file shares: slug from the name, size and encoding checks,
    then YAML (front matter between '---' fences, or the whole file). `meta` is None when
    the YAML could not be read as a mapping; `problems` says why."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    slug = slug_for_filename(name) if front_matter else name.rsplit(".", 1)[0]
    problems: list[Problem] = []
    if not SLUG_RE.match(slug):
        problems.append(Problem(path, 0, "", f"file name {slug!r} is not a valid slug: use "
                                             "lower-case letters, digits and hyphens, at most 80"))
    text, decode_problems = decode_text(path, raw, max_bytes)
    if text is None:
        return ContentFile(slug, None, problems=problems + decode_problems)
    body, body_line = "", 1
    if front_matter:
        text, body, body_line, fence_problems = split_front_matter(path, text)
        if fence_problems:
            return ContentFile(slug, None, problems=problems + fence_problems)
    try:
        meta = load_located(text, line_offset=1 if front_matter else 0, max_chars=max_bytes)
    except YamlSyntaxError as exc:
        hint = ("; text with '?', ':' or ',' inside [brackets] needs quotes, or write the "
                "list one '- item' per line") if "flow" in str(exc) else ""
        return ContentFile(slug, None, problems=problems + [
            Problem(path, exc.line, "", str(exc) + hint)])
    if not isinstance(meta.data, dict):
        return ContentFile(slug, None, problems=problems + [
            Problem(path, 2 if front_matter else 1, "",
                    f"{what} must be a set of 'field: value' lines")])
    return ContentFile(slug, meta, body, body_line, problems)


def parse_document(path: str, raw: bytes, taxonomy: Taxonomy, directory: Directory,
                   max_bytes: int = 256_000) -> ParseResult:
    """Parse and validate one write-up file's bytes; collect every problem found."""
    opened = read_content_file(path, raw, max_bytes)
    if opened.meta is None:
        return ParseResult(None, opened.problems)
    slug, meta, body, body_line = opened.slug, opened.meta, opened.body, opened.body_line
    problems = opened.problems
    check = FieldReader(path, meta, taxonomy)
    check.check_fields(REQUIRED, OPTIONAL)

    title = check.text(("title",), limit=MAX_TITLE)
    summary = check.text(("summary",), limit=MAX_SUMMARY)
    authors = check.text_list(("authors",), min_items=1)
    date = check.date(("date",))
    phase_tags = check.tags(("phase",), "phase")
    if len(phase_tags) > 1:
        check.fail(("phase",), "give one phase")
    key_stages = check.tags(("key_stages",), "key_stages")
    subjects = check.tags(("subjects",), "subjects")
    interventions = check.tags(("interventions",), "interventions")
    pupil_groups = check.tags(("pupil_groups",), "pupil_groups", required=False, min_items=0)
    strength, measure = "", ""
    if isinstance(meta.data.get("evidence"), dict):
        raw_strength = check.text(("evidence", "strength"))
        if raw_strength:
            found = check.tags(("evidence", "strength"), "evidence_strength", [raw_strength])
            strength = found[0] if found else ""
        measure = check.text(("evidence", "measure"), limit=2_000)
    elif "evidence" in meta.data:
        check.fail(("evidence",), "must have 'strength' and 'measure' on indented lines")
    status = check.one_of(("status",), STATUSES)

    school_name = family_name = school_id = family_id = ""
    raw_school = check.text(("school",), limit=200)
    raw_family = check.text(("family",), limit=200)
    if raw_school:
        school = directory.resolve_school(raw_school)
        if school is None:
            near = directory.suggest_school(raw_school)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            check.fail(("school",), f"unknown school {raw_school!r}{hint} (see schools.yaml)")
        else:
            school_id, school_name = school.id, school.name
    if raw_family:
        family = directory.resolve_family(raw_family)
        if family is None:
            near = directory.suggest_family(raw_family)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            check.fail(("family",), f"unknown family {raw_family!r}{hint} (see schools.yaml)")
        else:
            family_id, family_name = family.id, family.name
            if school_id and directory.schools[school_id].family != family_id:
                check.fail(("family",), f"{school_name} belongs to the "
                           f"{directory.families[directory.schools[school_id].family].name}, "
                           f"not {family_name}")

    review_due = check.date(("review_due",), required=False)
    if review_due is None and date is not None:
        review_due = _two_years_after(date)
    if not body.strip():
        check.problems.append(Problem(path, body_line, "body", "the write-up has no body text"))
    else:
        present = {m.group(1).strip().casefold()
                   for m in re.finditer(r"^##\s+(.+?)\s*#*\s*$", body, re.M)}
        missing = [s for s in SECTIONS if s.casefold() not in present]
        if missing:
            check.problems.append(Problem(path, body_line, "body",
                                          f"missing conventional sections: {', '.join(missing)}",
                                          level="warning"))
    problems += check.problems
    if any(p.level == "error" for p in problems):
        return ParseResult(None, problems)
    document = Document(
        slug=slug, path=path, title=title, summary=summary, school=school_id,
        school_name=school_name, family=family_id, family_name=family_name, authors=authors,
        date=date, phase=phase_tags[0], key_stages=key_stages,  # type: ignore[arg-type]
        subjects=subjects, interventions=interventions, pupil_groups=pupil_groups,
        evidence_strength=strength, evidence_measure=measure, status=status, body=body,
        content_hash=hashlib.sha256(raw).hexdigest(), review_due=review_due,  # type: ignore
        body_line=body_line,
    )
    return ParseResult(document, problems)


def _two_years_after(date: dt.date) -> dt.date:
    try:
        return date.replace(year=date.year + 2)
    except ValueError:  # 29 February
        return date.replace(year=date.year + 2, day=28)
