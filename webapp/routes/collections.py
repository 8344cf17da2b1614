"""Collections: the list, a collection's page, print view and handout downloads; the curators'
forms (create, add, reorder, annotate, remove, details, plan, status); and the JSON twins
/api/collections and /api/collections/<slug>."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.templating import Jinja2Templates

from kb.content.authoring import slug_from_title
from kb.curation.catalogue import Curation
from kb.curation.collection import Collection
from kb.curation.editing import CollectionEditor, RefusedChange
from kb.errors import KBError, NotFoundError
from kb.state.accounts import User
from services.curation import change_collection, record_change
from services.runtime import Services
from webapp.context import audience_context, materials_context, site_url
from webapp.deps import (
    CurationDep,
    Curator,
    PacksDep,
    PostedForm,
    Repeated,
    ServicesDep,
    TemplatesDep,
)
from webapp.handouts import collection_export, download, handout_context
from webapp.params import parse_audience
from webapp.plain_words import plain_message
from webapp.schemas import (
    CollectionDetail,
    CollectionList,
    collection_detail_of,
    collection_summary_of,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["collections"])


@pages.get("/collections", response_class=HTMLResponse)
def collections_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                     curation: CurationDep) -> HTMLResponse:
    subjects, phases = parse_audience(request.query_params, services.taxonomy)
    every = curation.published_collections()
    shown = [c for c in every if c.is_for(subjects, phases)]
    return templates.TemplateResponse(request, "collections.html", {
        "collections": shown, "programmes": sorted(curation.programmes.values(),
                                                   key=lambda p: p.date, reverse=True),
        **audience_context(services, every, subjects, phases),
    })


# {slug:collection} (webapp.params) never matches "new": /collections/new is the curators' form.
@pages.get("/collections/{slug:collection}", response_class=HTMLResponse)
def collection_page(slug: str, request: Request, services: ServicesDep,
                    templates: TemplatesDep, curation: CurationDep) -> HTMLResponse:
    collection = curation.collection(slug)
    return templates.TemplateResponse(request, "collection.html", {
        **handout_context(curation, collection, site_url(request, services)),
        **materials_context(request, services, "collections", slug)})


@pages.get("/collections/{slug}/print", response_class=HTMLResponse)
def collection_print(slug: str, request: Request, services: ServicesDep,
                     templates: TemplatesDep, curation: CurationDep) -> HTMLResponse:
    collection = curation.collection(slug)
    return templates.TemplateResponse(request, "collection_print.html", handout_context(
        curation, collection, site_url(request, services), services.settings.content_dir))


def _collection_file(fmt: str, slug: str, request: Request, services: ServicesDep,
                     templates: TemplatesDep, curation: Curation, packs: PacksDep) -> Response:
    collection = curation.collection(slug)
    url = site_url(request, services)
    data = packs.get(("collection", fmt, slug, curation.version, url),
                     lambda: collection_export(templates.env, curation, collection, fmt, url,
                                               services.settings.content_dir))
    return download(data, fmt, f"{slug}.{'zip' if fmt == 'md' else fmt}")


@pages.get("/collections/{slug}/handout.pdf")
def collection_pdf(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                   curation: CurationDep, packs: PacksDep) -> Response:
    return _collection_file("pdf", slug, request, services, templates, curation, packs)


@pages.get("/collections/{slug}/handout.zip")
def collection_zip(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                   curation: CurationDep, packs: PacksDep) -> Response:
    return _collection_file("md", slug, request, services, templates, curation, packs)


# -- curators' forms -----------------------------------------------------------------------

PLAN_LINE = re.compile(r"^\s*(\d{1,3})\s*(?:min(?:utes?)?\b\.?)?\s*[-:–]?\s*(.+?)\s*$")
DONE = {"created": "Collection created. Add write-ups and a session plan, then publish it.",
        "added": "Write-up added.", "moved": "Order changed.", "noted": "Note saved.",
        "removed": "Write-up removed.", "details": "Details saved.", "plan": "Plan saved.",
        "status": "Status changed.", "introduction": "Introduction saved."}


def _text(form: FormData, name: str, limit: int = 4000) -> str:
    return str(form.get(name, ""))[:limit]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def field_errors(exc: KBError, item: int | None = None) -> dict[str, str]:
    """Problems keyed by form field: 'title', 'subjects', 'why' (of the item), 'plan' ..."""
    if not isinstance(exc, RefusedChange):
        return {"form": str(exc)}
    out: dict[str, str] = {}
    for p in exc.problems:
        name = p.field
        if ((item is not None and name.startswith(f"items[{item}].")) or
                name.startswith("audience.")):
            name = name.split(".", 1)[1].split("[")[0]
        elif name.startswith("plan"):
            name = "plan"
        out.setdefault(name or "form", plain_message(name, p.message))
    return out


def parse_plan(text: str) -> tuple[list[tuple[int, str]], str]:
    """Plan lines like '10 Welcome and aims'; an error message names the first bad line."""
    steps = []
    for number, line in enumerate(_lines(text), start=1):
        match = PLAN_LINE.match(line)
        if not match:
            return [], (f"line {number} ({line[:40]!r}) must start with the minutes, e.g. "
                        "'10 Welcome and aims'")
        steps.append((int(match.group(1)), match.group(2)))
    return steps, ""


def edit_context(services: Services, curation: Curation, collection: Collection,
                 **extra: Any) -> dict[str, Any]:
    docs = {d.slug: d for d in curation.library.documents}
    return {
        "collection": collection,
        "items": [(n, item, docs.get(item.writeup))
                  for n, item in enumerate(collection.items, start=1)],
        "subject_terms": services.taxonomy.for_field("subjects").terms,
        "phase_terms": services.taxonomy.for_field("phase").terms,
        "plan_text": "\n".join(f"{s.minutes} {s.activity}" for s in collection.plan),
        "writeups": sorted((d for d in curation.library.documents if d.status == "published"
                            and d.slug not in collection.writeups),
                           key=lambda d: d.title.casefold()),
        "errors": {}, "error_item": 0, "values": {}, "message": "", **extra}


def _page(request: Request, templates: Jinja2Templates, services: Services,
          curation: Curation, slug: str, status: int = 200, **extra: Any) -> Response:
    collection = curation.collection(slug, include_drafts=True)
    return templates.TemplateResponse(request, "collection_edit.html", {
        **edit_context(services, curation, collection, **extra),
        **materials_context(request, services, "collections", slug)}, status_code=status)


def _change(request: Request, templates: TemplatesDep, services: Services, curation: Curation,
            user: User, slug: str, action: str, detail: str,
            run: Callable[[CollectionEditor], Any], *, item: int = 0,
            values: dict[str, Any] | None = None, anchor: str = "") -> Response:
    """Apply one edit; on success audit it and redirect (PRG), else show the page with the
    problems beside their fields and the values as posted."""
    try:
        change_collection(services, curation, run)
    except NotFoundError:
        raise
    except KBError as exc:
        position = item or None
        return _page(request, templates, services, curation, slug, status=422,
                     errors=field_errors(exc, position), error_item=item,
                     error_form=action, values=values or {})
    record_change(services, user, action, slug, detail)
    return RedirectResponse(f"/collections/{slug}/edit?done={DONE_KEY[action]}{anchor}",
                            status_code=303)


DONE_KEY = {"create": "created", "add": "added", "move": "moved", "annotate": "noted",
            "remove": "removed", "details": "details", "plan": "plan", "status": "status",
            "introduction": "introduction"}


# -- curators: creating --------------------------------------------------------------------

@pages.get("/collections/new", response_class=HTMLResponse)
def new_page(request: Request, services: ServicesDep, templates: TemplatesDep,
             user: Curator) -> Response:
    return templates.TemplateResponse(request, "collection_new.html", {
        "subject_terms": services.taxonomy.for_field("subjects").terms,
        "phase_terms": services.taxonomy.for_field("phase").terms,
        "values": {"curator": user.name}, "errors": {}})


@pages.post("/collections/new", response_class=HTMLResponse)
def new_post(request: Request, services: ServicesDep, templates: TemplatesDep,
             curation: CurationDep, user: Curator, form: PostedForm) -> Response:
    values = {"title": _text(form, "title", 400), "slug": _text(form, "slug", 100).strip(),
              "purpose": _text(form, "purpose"), "curator": _text(form, "curator", 200),
              "subjects": [str(v) for v in form.getlist("subjects")][:40],
              "phases": [str(v) for v in form.getlist("phases")][:10]}
    slug = values["slug"] or slug_from_title(values["title"])
    errors: dict[str, str] = {}
    if not values["title"].strip():
        errors["title"] = "Enter a title"
    if not slug:
        errors.setdefault("slug", "Enter a web address for the collection, in lower-case "
                                  "letters, digits and hyphens")
    if not errors:
        try:
            change_collection(services, curation, lambda e: e.create(
                slug, values["title"], values["purpose"], values["subjects"],
                values["phases"], curator=values["curator"]))
        except KBError as exc:
            errors = field_errors(exc)
            if "already exists" in str(exc) or "slug" in str(exc):
                errors = {"slug": str(exc)}
    if errors:
        return templates.TemplateResponse(request, "collection_new.html", {
            "subject_terms": services.taxonomy.for_field("subjects").terms,
            "phase_terms": services.taxonomy.for_field("phase").terms,
            "values": values, "errors": errors}, status_code=422)
    record_change(services, user, "create", slug, values["title"])
    return RedirectResponse(f"/collections/{slug}/edit?done=created", status_code=303)


# -- curators: the page for one collection -------------------------------------------------

@pages.get("/collections/{slug}/edit", response_class=HTMLResponse)
def edit_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
              curation: CurationDep, user: Curator, done: str = "") -> Response:
    return _page(request, templates, services, curation, slug,
                 message=DONE.get(done, ""))


@pages.post("/collections/add", response_class=HTMLResponse)
def add_from_anywhere(request: Request, services: ServicesDep, templates: TemplatesDep,
                      curation: CurationDep, user: Curator, form: PostedForm) -> Response:
    """The small "Add to collection" form on search results and write-up pages."""
    slug = _text(form, "collection", 100)
    curation.collection(slug, include_drafts=True)  # 404 for an unknown collection
    return _add(request, templates, services, curation, user, slug, form)


@pages.post("/collections/{slug}/items", response_class=HTMLResponse)
def add_post(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
             curation: CurationDep, user: Curator, form: PostedForm) -> Response:
    return _add(request, templates, services, curation, user, slug, form)


def _add(request: Request, templates: TemplatesDep, services: Services, curation: Curation,
         user: User, slug: str, form: FormData) -> Response:
    writeup = _text(form, "writeup", 100)
    why, task = _text(form, "why"), _text(form, "task")
    questions = _lines(_text(form, "questions", 16000))
    return _change(request, templates, services, curation, user, slug, "add", writeup,
                   lambda e: e.add(slug, writeup, why, questions, task),
                   values={"writeup": writeup, "why": why, "task": task,
                           "questions": "\n".join(questions)},
                   anchor=f"#item-{writeup}")


@pages.post("/collections/{slug}/items/{writeup}/move", response_class=HTMLResponse)
def move_post(slug: str, writeup: str, request: Request, services: ServicesDep,
              templates: TemplatesDep, curation: CurationDep, user: Curator,
              form: PostedForm) -> Response:
    collection = curation.collection(slug, include_drafts=True)
    now = collection.position_of(writeup)
    if now is None:
        raise NotFoundError(f"{writeup[:80]!r} is not in collection {slug}")
    step = {"up": -1, "down": 1}.get(_text(form, "direction", 10), 0)
    target = min(max(now + step, 1), len(collection.items))
    return _change(request, templates, services, curation, user, slug, "move",
                   f"{writeup} {now}->{target}", lambda e: e.move(slug, writeup, target),
                   anchor=f"#item-{writeup}")


@pages.post("/collections/{slug}/items/{writeup}/note", response_class=HTMLResponse)
def note_post(slug: str, writeup: str, request: Request, services: ServicesDep,
              templates: TemplatesDep, curation: CurationDep, user: Curator,
              form: PostedForm) -> Response:
    collection = curation.collection(slug, include_drafts=True)
    why, task = _text(form, "why"), _text(form, "task")
    questions = _lines(_text(form, "questions", 16000))
    return _change(request, templates, services, curation, user, slug, "annotate", writeup,
                   lambda e: e.annotate(slug, writeup, why, questions, task),
                   item=collection.position_of(writeup) or 0,
                   values={"why": why, "task": task, "questions": "\n".join(questions)},
                   anchor=f"#item-{writeup}")


@pages.post("/collections/{slug}/items/{writeup}/remove", response_class=HTMLResponse)
def remove_post(slug: str, writeup: str, request: Request, services: ServicesDep,
                templates: TemplatesDep, curation: CurationDep, user: Curator) -> Response:
    return _change(request, templates, services, curation, user, slug, "remove", writeup,
                   lambda e: e.remove(slug, writeup))


@pages.post("/collections/{slug}/details", response_class=HTMLResponse)
def details_post(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                 curation: CurationDep, user: Curator, form: PostedForm) -> Response:
    title, purpose = _text(form, "title", 400), _text(form, "purpose")
    curator = _text(form, "curator", 200)
    subjects = [str(v) for v in form.getlist("subjects")][:40]
    phases = [str(v) for v in form.getlist("phases")][:10]
    return _change(request, templates, services, curation, user, slug, "details", title,
                   lambda e: e.set_details(slug, title, purpose, subjects, phases, curator),
                   values={"title": title, "purpose": purpose, "curator": curator,
                           "subjects": subjects, "phases": phases})


@pages.post("/collections/{slug}/plan", response_class=HTMLResponse)
def plan_post(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
              curation: CurationDep, user: Curator, form: PostedForm) -> Response:
    text = _text(form, "plan", 16000)
    steps, problem = parse_plan(text)
    if problem:
        return _page(request, templates, services, curation, slug, status=422,
                     errors={"plan": problem}, error_form="plan", values={"plan": text})
    return _change(request, templates, services, curation, user, slug, "plan",
                   f"{len(steps)} steps", lambda e: e.set_plan(slug, steps),
                   values={"plan": text})


@pages.post("/collections/{slug}/introduction", response_class=HTMLResponse)
def introduction_post(slug: str, request: Request, services: ServicesDep,
                      templates: TemplatesDep, curation: CurationDep, user: Curator,
                      form: PostedForm) -> Response:
    text = _text(form, "introduction", 16000)
    return _change(request, templates, services, curation, user, slug, "introduction",
                   f"{len(text)} characters", lambda e: e.set_introduction(slug, text),
                   values={"introduction": text}, anchor="#introduction-heading")


@pages.post("/collections/{slug}/status", response_class=HTMLResponse)
def status_post(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                curation: CurationDep, user: Curator, form: PostedForm) -> Response:
    status = _text(form, "status", 20)
    return _change(request, templates, services, curation, user, slug, "status", status,
                   lambda e: e.set_status(slug, status))


# -- the JSON twins ------------------------------------------------------------------------

@api.get("/collections", response_model=CollectionList)
def api_collections(request: Request, services: ServicesDep, curation: CurationDep,
                    subject: Repeated = None, phase: Repeated = None) -> CollectionList:
    """Published collections by title, optionally for some subjects and phases."""
    subjects, phases = parse_audience(request.query_params, services.taxonomy)
    found = [c for c in curation.published_collections() if c.is_for(subjects, phases)]
    return CollectionList(total=len(found), results=[collection_summary_of(c) for c in found])


@api.get("/collections/{slug}", response_model=CollectionDetail)
def api_collection(slug: str, curation: CurationDep) -> CollectionDetail:
    """One collection: its plan, its write-ups in order with the curator's notes, its sessions."""
    return collection_detail_of(curation, curation.collection(slug))


router = APIRouter()
router.include_router(pages)
router.include_router(api)
