"""The contribution form: reading posted fields, problems per field, preview and pickers."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import fields
from typing import Any

from starlette.datastructures import FormData

from kb.errors import BadInputError, Problem
from kb.state.accounts import User
from kb.workflows.contribution import TAG_FIELDS, Fields, section_template
from kb.workflows.submissions import Submission
from services.brokering import WriteupSource
from services.contribution import Preview
from services.runtime import Services
from webapp.plain_words import plain_message

# Validator field paths -> form field names (the rest are shown at the top of the form).
FIELD_OF_PROBLEM = {"evidence": "evidence_strength", "evidence.strength": "evidence_strength",
                    "evidence.measure": "evidence_measure"}
HONEYPOT = "website"
MAX_COMMENT = 4000  # a moderator's comment on a decision (page and API)


def fields_from_form(form: FormData) -> Fields:
    """The posted form as Fields (control characters removed, nothing cut)."""
    values: dict[str, Any] = {}
    for f in fields(Fields):
        if f.name in TAG_FIELDS:
            items = [str(v) for v in form.getlist(f.name)]
            if len(items) > 100:
                raise BadInputError(f"{f.name}: too many values ({len(items)})")
            values[f.name] = items
        else:
            value = form.get(f.name, "")
            # No length cut here: the body limit bounds the request, and the validator
            # reports an over-long write-up with the limit next to it.
            values[f.name] = value if isinstance(value, str) else ""
    return Fields(**values).cleaned()


def honeypot_filled(form: FormData) -> bool:
    """Bots fill every field; people never see this one."""
    return bool(str(form.get(HONEYPOT, "")).strip())


def blank_fields(services: Services, user: User) -> Fields:
    """A new write-up for this user's school, pre-filled with the section template."""
    return Fields(school=user.school, family=user.family, authors=user.name,
                  date=dt.date.today().isoformat(), phase="", body=section_template())


def problems_by_field(problems: list[Problem]) -> tuple[dict[str, list[str]], list[str]]:
    """Problems keyed by form field, plus the ones that belong to no single field."""
    known = {f.name for f in fields(Fields)}
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for problem in problems:
        name = FIELD_OF_PROBLEM.get(problem.field, problem.field)
        text = plain_message(name, problem.message) + (
            " (a warning)" if problem.level == "warning" else "")
        if name in known:
            by_field.setdefault(name, []).append(text)
        else:
            general.append(f"{problem.field}: {text}" if problem.field else text)
    return by_field, general


def form_context(services: Services, form: Fields, problems: list[Problem], *,
                 action: str, kind: str, heading: str, preview: Preview | None = None,
                 idempotency_key: str = "", message: str = "", base_hash: str = "",
                 upload_problems: list[str] | None = None,
                 submission: Submission | None = None,
                 source: WriteupSource | None = None) -> dict[str, Any]:
    """Everything contribute.html needs to draw the form, its errors and its preview."""
    by_field, general = problems_by_field(problems)
    vocab = services.taxonomy
    pickers = []
    for name, title in (("key_stages", "Key stages"), ("subjects", "Subjects"),
                        ("interventions", "Interventions"), ("pupil_groups", "Pupil groups")):
        terms = list(vocab.for_field(name).terms)
        chosen = getattr(form, name)
        unknown = [v for v in chosen if v not in {t.id for t in terms}]
        pickers.append({"name": name, "title": title, "terms": terms, "chosen": chosen,
                        "unknown": unknown, "required": name != "pupil_groups"})
    directory = services.directory
    schools = sorted(directory.schools.values(), key=lambda s: s.name)
    families = sorted(directory.families.values(), key=lambda f: f.name)
    school = directory.resolve_school(form.school) if form.school else None
    family = directory.resolve_family(form.family) if form.family else None
    return {
        "form": form, "errors": by_field, "general_errors": general,
        "error_count": sum(len(v) for v in by_field.values()) + len(general),
        "pickers": pickers, "schools": schools, "families": families,
        # Chosen ids, or the text as written when it names no school or family (so the
        # select keeps it and the validator's suggestion stays next to the field).
        "school_id": school.id if school else "", "family_id": family.id if family else "",
        "phases": vocab.for_field("phase").terms,
        "strengths": vocab.for_field("evidence_strength").terms,
        "action": action, "kind": kind, "heading": heading, "preview": preview,
        "idempotency_key": idempotency_key or secrets.token_urlsafe(16),
        "message": message, "base_hash": base_hash, "upload_problems": upload_problems or [],
        "honeypot": HONEYPOT, "submission": submission, "source": source,
        "max_file_kb": services.settings.max_file_bytes // 1000,
    }
