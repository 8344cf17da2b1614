"""A write-up: its page (with revisions, support and transfer for this visitor) and the JSON
twins, /api/practices (every write-up, filtered by tags) and /api/practices/<slug>."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse

from kb.content.markdown import render_html
from services.search import record_open
from webapp.context import (
    history_context,
    materials_context,
    support_context,
    transfer_context,
)
from webapp.deps import CurationDep, Repeated, SearchDep, ServicesDep, TemplatesDep
from webapp.schemas import Practice, PracticeList, practice_of, writeup_of

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


@pages.get("/practice/{slug}", response_class=HTMLResponse)
def practice_page(slug: str, request: Request, services: ServicesDep,
                  templates: TemplatesDep, curation: CurationDep,
                  background: BackgroundTasks) -> HTMLResponse:
    doc = services.engine.document(slug)
    opened_from = request.query_params.get("from", "")
    if opened_from:
        background.add_task(record_open, services, opened_from, slug)
    _, headings = render_html(doc.body)
    asked = request.query_params.get("section", "")
    matched = next((h for h in headings if h.anchor == asked), None)
    return templates.TemplateResponse(request, "practice.html", {
        "doc": doc, "headings": [h for h in headings if h.level == 2], "matched": matched,
        "related": services.engine.related(slug),
        "used_in": curation.collections_using(slug),
        **history_context(request, services, slug, doc.tags["family"][0]),
        **support_context(request, services, slug, doc.tags["school"][0]),
        **transfer_context(request, services, slug, doc.tags["school"][0]),
        **materials_context(request, services, "practice", slug),
    })


@api.get("/practices", response_model=PracticeList)
def api_practices(services: ServicesDep, request: SearchDep, subject: Repeated = None,
                  intervention: Repeated = None, phase: Repeated = None,
                  key_stage: Repeated = None, pupil_group: Repeated = None,
                  evidence: Repeated = None, school: Repeated = None, family: Repeated = None,
                  year: Repeated = None) -> PracticeList:
    """Every published write-up (newest first), optionally filtered by tags."""
    docs = services.engine.documents(request.query.filters)
    return PracticeList(total=len(docs), results=[writeup_of(d) for d in docs])


@api.get("/practices/{slug}", response_model=Practice)
def api_practice(slug: str, services: ServicesDep) -> Practice:
    """One write-up in full, with its related practices."""
    return practice_of(services.engine.document(slug),
                       [d for d, _ in services.engine.related(slug)])


router = APIRouter()
router.include_router(pages)
router.include_router(api)
