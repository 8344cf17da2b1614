"""Contribution forms as write-up files: fields <-> Markdown text, validation, diffs (pure)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

import yaml

from kb.content.directory import Directory
from kb.content.documents import (
    SECTIONS,
    ParseResult,
    decode_text,
    parse_document,
    split_front_matter,
)
from kb.content.taxonomy import Taxonomy
from kb.content.yamlfile import YamlSyntaxError, load_located
from kb.errors import Problem

TAG_FIELDS = ("key_stages", "subjects", "interventions", "pupil_groups")
TEXT_FIELDS = ("title", "summary", "school", "family", "authors", "date", "phase",
               "evidence_strength", "evidence_measure", "review_due", "body", "slug", "note")
# Control characters other than tab and newline never belong in a form value (NUL, bidi
# overrides are left to escaping: they are text, and the pages escape them).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def section_template() -> str:
    """The body a new write-up starts with: the conventional sections, with prompts."""
    prompts = {
        "Context": "Your school, the pupils involved and the problem you saw.",
        "What we did": "The routine, the materials, the timings, who did what and for how "
                       "long.",
        "Impact": "What you measured, how, over what period, for how many pupils, and the "
                  "result, including anything that did not work.",
        "What we would change": "What you would do differently next time.",
        "How to adopt it": "Concrete steps, staff time, cost and resources.",
    }
    return "\n\n".join(f"## {s}\n\n{prompts[s]}" for s in SECTIONS) + "\n"


@dataclass
class Fields:
    """Everything the contribution form edits; tag fields hold ids (or unknown raw text)."""

    title: str = ""
    summary: str = ""
    school: str = ""
    family: str = ""
    authors: str = ""
    date: str = ""
    phase: str = ""
    key_stages: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    interventions: list[str] = field(default_factory=list)
    pupil_groups: list[str] = field(default_factory=list)
    evidence_strength: str = ""
    evidence_measure: str = ""
    review_due: str = ""
    body: str = ""
    slug: str = ""
    note: str = ""

    def cleaned(self) -> Fields:
        """A copy with control characters removed and single-line values trimmed."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                out[f.name] = [_CONTROL.sub("", v).strip() for v in value if v.strip()]
            elif f.name in ("body", "evidence_measure", "summary"):
                out[f.name] = _CONTROL.sub("", value.replace("\r\n", "\n")).strip()
            else:
                out[f.name] = " ".join(_CONTROL.sub("", value).split())
        return replace(self, **out)


class _Dumper(yaml.SafeDumper):
    """Lists in flow style ([a, b]) like the hand-written files; mappings in block style."""


_Dumper.add_representer(list, lambda d, v: d.represent_sequence(
    "tag:yaml.org,2002:seq", v, flow_style=True))


def _date_or_text(value: str) -> dt.date | str:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value  # left as text so the validator names the field


def build_text(form: Fields) -> str:
    """The write-up file the form describes (status: published, for when it is approved)."""
    form = form.cleaned()
    front: dict[str, Any] = {
        "title": form.title, "summary": form.summary, "school": form.school,
        "family": form.family,
        "authors": [a.strip() for a in form.authors.split(",") if a.strip()],
        "date": _date_or_text(form.date),
        "phase": form.phase or [],  # an empty list: "must list at least one item"
        "key_stages": form.key_stages, "subjects": form.subjects,
        "interventions": form.interventions, "pupil_groups": form.pupil_groups,
        "evidence": {"strength": form.evidence_strength, "measure": form.evidence_measure},
        "status": "published",
    }
    if form.review_due:
        front["review_due"] = _date_or_text(form.review_due)
    head = yaml.dump(front, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{head}---\n\n{form.body.strip()}\n"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _resolve_tags(values: list[str], field_name: str, taxonomy: Taxonomy) -> list[str]:
    vocab = taxonomy.for_field(field_name)
    return [vocab.resolve(v) or v for v in values]


def fields_from_text(text: str, taxonomy: Taxonomy, slug: str = "") -> Fields | None:
    """The form fields of a write-up's text, or None when its front matter cannot be read.

    Tags are turned into taxonomy ids where they resolve; unknown ones are kept as written so
    that the validator still reports them next to their field.
    """
    yaml_text, body, _, problems = split_front_matter("upload", text)
    if problems:
        return None
    try:
        data = load_located(yaml_text).data
    except YamlSyntaxError:
        return None
    if not isinstance(data, dict):
        return None
    evidence = data.get("evidence") if isinstance(data.get("evidence"), dict) else {}
    phase = _resolve_tags(_as_list(data.get("phase")), "phase", taxonomy)
    strength = str(evidence.get("strength") or "")
    return Fields(
        title=str(data.get("title") or ""), summary=str(data.get("summary") or ""),
        school=str(data.get("school") or ""), family=str(data.get("family") or ""),
        authors=", ".join(_as_list(data.get("authors"))),
        date=str(data.get("date") or ""), phase=phase[0] if phase else "",
        key_stages=_resolve_tags(_as_list(data.get("key_stages")), "key_stages", taxonomy),
        subjects=_resolve_tags(_as_list(data.get("subjects")), "subjects", taxonomy),
        interventions=_resolve_tags(_as_list(data.get("interventions")), "interventions",
                                    taxonomy),
        pupil_groups=_resolve_tags(_as_list(data.get("pupil_groups")), "pupil_groups",
                                   taxonomy),
        evidence_strength=taxonomy.for_field("evidence_strength").resolve(strength) or strength,
        evidence_measure=str(evidence.get("measure") or ""),
        review_due=str(data.get("review_due") or ""), body=body.strip("\n"), slug=slug)


def check_text(slug: str, text: str, taxonomy: Taxonomy, directory: Directory,
               max_bytes: int) -> ParseResult:
    """Validate a proposed write-up exactly as `kb validate` would validate its file."""
    result = parse_document(f"content/practice/{slug or 'untitled'}.md", text.encode("utf-8"),
                            taxonomy, directory, max_bytes)
    if result.document is not None and result.document.status != "published":
        result.problems.append(Problem(result.document.path, 0, "status",
                                       "must be 'published': drafts are kept in the web app"))
        result.document = None
    return result


def normalise_upload(raw: bytes, max_bytes: int) -> tuple[str | None, list[Problem]]:
    """Decode an uploaded file as `kb validate` would (size, UTF-8, BOM, NUL, line ends)."""
    return decode_text("upload", raw, max_bytes)


def diff_lines(old: str, new: str) -> list[tuple[str, str]]:
    """A line diff for people: (kind, text) with kind 'same', 'add', 'del' or 'gap'."""
    out: list[tuple[str, str]] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            out.append(("gap", "…"))
        elif line.startswith("+"):
            out.append(("add", line[1:]))
        elif line.startswith("-"):
            out.append(("del", line[1:]))
        else:
            out.append(("same", line[1:]))
    return out


def _sections(text: str) -> tuple[dict[str, Any], dict[str, str]]:
    yaml_text, body, _, problems = split_front_matter("x", text)
    try:
        front = load_located(yaml_text).data if not problems else {}
    except YamlSyntaxError:
        front = {}
    parts = re.split(r"^##\s+(.+?)\s*$", body, flags=re.M)
    sections = {"(introduction)": parts[0].strip()}
    for i in range(1, len(parts) - 1, 2):
        sections[parts[i].strip()] = parts[i + 1].strip()
    return (front if isinstance(front, dict) else {}), sections


def describe_change(old: str, new: str) -> str:
    """A one-line summary of what changed between two versions, e.g. 'title; section Impact'."""
    old_front, old_sections = _sections(old)
    new_front, new_sections = _sections(new)
    changed = [k for k in dict.fromkeys([*old_front, *new_front])
               if old_front.get(k) != new_front.get(k)]
    touched = [s for s in dict.fromkeys([*old_sections, *new_sections])
               if old_sections.get(s) != new_sections.get(s)]
    parts = []
    if changed:
        parts.append("changed " + ", ".join(changed))
    if touched:
        parts.append("edited " + ", ".join(f"section {s!r}" for s in touched))
    return "; ".join(parts) or "no change to the text"
