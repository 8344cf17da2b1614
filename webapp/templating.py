"""Jinja2 set-up: autoescaping templates, the one tag-label lookup, safe rendering helpers and
the globals the header and forms use (CSRF token, what the visitor may do)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from indexer.chunking import attachment_name
from kb.content.directory import Directory
from kb.content.markdown import render_html
from kb.content.taxonomy import Taxonomy
from kb.curation.collection import Collection
from kb.state.accounts import CHALLENGE_ROLES, CONTRIBUTOR_ROLES, MODERATOR_ROLES
from webapp.params import PARAM_OF_FIELD

TEMPLATE_DIR = Path(__file__).parent / "templates"

FIELD_TITLES = {
    "subjects": "Subject", "interventions": "Intervention", "phase": "Phase",
    "key_stages": "Key stage", "pupil_groups": "Pupil group",
    "evidence_strength": "Evidence strength", "school": "School", "family": "Family",
    "year": "Year",
}


def label(taxonomy: Taxonomy, directory: Directory, field_name: str, value: str) -> str:
    """The words people read for a tag value: a term's label, a school's or family's name,
    the year itself; an unknown value is shown as it is."""
    if field_name == "school":
        school = directory.schools.get(value)
        return school.name if school else value
    if field_name == "family":
        family = directory.families.get(value)
        return family.name if family else value
    if field_name == "year":
        return value
    return taxonomy.label(field_name, value)


def render_snippet(segments: Any, best: tuple[int, int] = (0, 0)) -> Markup:
    """Escape every snippet segment; wrap the query hits in <mark> and the best sentence (its
    character offsets in the snippet's text) in <strong class="best-sentence">."""
    out, offset = [], 0
    start, end = best
    for text, is_hit in segments:
        # Cut the segment where the best sentence starts or ends, so the tags nest properly.
        cuts = sorted({0, len(text), *(p - offset for p in (start, end)
                                       if offset < p < offset + len(text))})
        for a, b in zip(cuts, cuts[1:]):
            piece = escape(text[a:b])
            piece = Markup(f"<mark>{piece}</mark>") if is_hit else piece
            inside = start < end and start <= offset + a and offset + b <= end
            out.append(f'<strong class="best-sentence">{piece}</strong>' if inside else str(piece))
        offset += len(text)
    return Markup("".join(out).replace('</strong><strong class="best-sentence">', ""))


MAX_REASON_WORDS = 6


def reasons(hit: Any, taxonomy: Taxonomy) -> list[str]:
    """Why a search result is here, as short sentences a teacher can read."""
    out = []
    attached = attachment_name(hit.section)
    if attached:
        out.append(f"Found in the attached file “{attached}”")
    if hit.matched_words:
        words = ", ".join(hit.matched_words[:MAX_REASON_WORDS])
        out.append(f"Matches your words: {words}")
    out += [f"Tagged {taxonomy.label(f, v)}, which your search names"
            for f, v in hit.shared_tags]
    if hit.similarity is not None and not hit.matched_words:
        where = f" (in “{hit.section}”)" if hit.section and not attached else ""
        out.append(f"Close in meaning to your search{where}")
    return out


def render_body(body: str, matched: str = "") -> Markup:
    """The write-up body as HTML; kb.content.markdown disables raw HTML and unsafe links. A
    `matched` section (a heading anchor the search pointed to) is marked for the reader."""
    html, headings = render_html(body)
    for heading in headings:
        if matched and heading.anchor == matched:
            tag = f'<h{heading.level} id="{heading.anchor}">'
            html = html.replace(tag, f'<h{heading.level} id="{heading.anchor}" '
                                     'class="matched-section">', 1)
    return Markup(html)  # produced by the safe renderer, never raw user HTML


def format_date(value: str | dt.date) -> str:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    return f"{value.day} {value.strftime('%B %Y')}"


def _can(user: Any, *roles: str) -> bool:
    return bool(user) and bool(user.has_role(*roles))


def collections_to_add_to(request: Request) -> list[Collection]:
    """The collections the "Add to collection" form offers, by title."""
    curation = request.app.state.curation.get()
    return sorted(curation.collections.values(), key=lambda c: c.title.casefold())


def create_templates(taxonomy: Taxonomy, directory: Directory,
                     csrf_token: Callable[[Request], str] | None = None) -> Jinja2Templates:
    """The templates with their filters and globals, for these vocabularies and schools; the
    site's pages also get the CSRF token for their forms (exported handouts need none)."""
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    env = templates.env

    def url_with(path: str, params: dict[str, list[str]], **changes: Any) -> str:
        merged = {k: list(v) for k, v in params.items()}
        for key, value in changes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value if isinstance(value, list) else [str(value)]
        pairs = [(k, v) for k, values in merged.items() for v in values if v != ""]
        return path + ("?" + urlencode(pairs) if pairs else "")

    env.globals.update(
        label=lambda field_name, value: label(taxonomy, directory, field_name, value),
        field_titles=FIELD_TITLES, param_of=PARAM_OF_FIELD, url_with=url_with,
        taxonomy=taxonomy, directory=directory,
        reasons=lambda hit: reasons(hit, taxonomy),
        can_contribute=lambda user: _can(user, *CONTRIBUTOR_ROLES),
        can_moderate=lambda user: _can(user, *MODERATOR_ROLES),
        can_curate=lambda user: _can(user, "curator"),
        can_teach_search=lambda user: _can(user, "moderator", "curator"),
        can_lead=lambda user: _can(user, *CHALLENGE_ROLES),
        collections_to_add_to=collections_to_add_to)
    if csrf_token is not None:
        env.globals["csrf_token"] = csrf_token
    env.filters.update(snippet=render_snippet, markdown=render_body, nice_date=format_date)
    return templates
