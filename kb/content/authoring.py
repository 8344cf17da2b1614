"""Creating a new, correctly shaped write-up file from the template."""

from __future__ import annotations

import datetime as dt
import os
import re
from importlib import resources
from pathlib import Path

from kb.content.directory import Directory
from kb.content.documents import SLUG_RE
from kb.content.taxonomy import Taxonomy
from kb.errors import BadInputError


def slug_from_title(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80].strip("-")
    return slug


def render_template(title: str, school: str, family: str, author: str, subject: str,
                    intervention: str, date: dt.date) -> str:
    template = resources.files("kb").joinpath("templates/practice.md").read_text("utf-8")
    return template.format(title=title.replace('"', "'"), school=school, family=family,
                           author=author.replace('"', "'"), subject=subject,
                           intervention=intervention, date=date.isoformat())


def create_writeup(practice_dir: Path, taxonomy: Taxonomy, directory: Directory, *, title: str,
                   school: str, author: str, subject: str, intervention: str,
                   date: dt.date | None = None, slug: str | None = None) -> Path:
    """Write content/practice/<slug>.md as a draft; never overwrite an existing file."""
    if not title.strip():
        raise BadInputError("--title must not be empty")
    slug = slug or slug_from_title(title)
    if not SLUG_RE.match(slug):
        raise BadInputError(f"slug {slug!r} must be lower-case letters, digits and hyphens")
    found = directory.resolve_school(school)
    if found is None:
        near = ", ".join(directory.suggest_school(school)) or "see content/schools.yaml"
        raise BadInputError(f"--school: unknown school {school!r} (did you mean {near}?)")
    tags = {}
    for field_name, value in (("subjects", subject), ("interventions", intervention)):
        term = taxonomy.for_field(field_name).resolve(value)
        if term is None:
            raise BadInputError(f"--{field_name[:-1]}: "
                                + taxonomy.unknown_tag_message(field_name, value))
        tags[field_name] = term
    target = practice_dir / f"{slug}.md"
    text = render_template(title.strip(), found.id, found.family, author.strip() or "Your name",
                           tags["subjects"], tags["interventions"], date or dt.date.today())
    practice_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise BadInputError(f"{target} already exists; choose another --slug") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return target
