"""Inset-day programmes: the list, a day's timetable page (filtered by subject and phase), its
print view and PDF, and their JSON twins /api/programmes and /api/programmes/<slug>."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kb.curation.timetable import build_grid
from kb.workflows import attendance, signup
from webapp.context import audience_context, site_url
from webapp.deps import CurationDep, PacksDep, Repeated, ServicesDep, TemplatesDep
from webapp.handouts import download, programme_export, timetable_context
from webapp.params import parse_audience
from webapp.schemas import (
    ProgrammeDetail,
    ProgrammeSummary,
    programme_detail_of,
    programme_summary_of,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["collections"])


@pages.get("/programmes", response_class=HTMLResponse)
def programmes_page(request: Request, templates: TemplatesDep,
                    curation: CurationDep) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    drafts = curation.draft_programmes.values() if user and user.has_role("curator") else ()
    return templates.TemplateResponse(request, "programmes.html", {
        "programmes": sorted(curation.programmes.values(), key=lambda p: p.date, reverse=True),
        "drafts": sorted(drafts, key=lambda p: p.date, reverse=True)})


@pages.get("/programmes/{slug:programme}", response_class=HTMLResponse)
def programme_page(slug: str, request: Request, services: ServicesDep,
                   templates: TemplatesDep, curation: CurationDep) -> HTMLResponse:
    programme = curation.programme(slug)
    subjects, phases = parse_audience(request.query_params, services.taxonomy)
    used = [curation.collections[s.collection] for _, s in programme.sessions()]
    strand_subjects = {s for strand in programme.strands for s in strand.subjects}
    window = signup.window(services.state, slug)
    return templates.TemplateResponse(request, "programme.html", {
        **timetable_context(curation, programme, site_url(request, services), subjects, phases),
        **audience_context(services, used, subjects, phases, strand_subjects),
        "window": window,
        "fills": attendance.fills(services.state, programme) if window.status != "not opened"
        else {},
    })


@pages.get("/programmes/{slug}/print", response_class=HTMLResponse)
def programme_print(slug: str, request: Request, services: ServicesDep,
                    templates: TemplatesDep, curation: CurationDep) -> HTMLResponse:
    programme = curation.programme(slug)
    return templates.TemplateResponse(request, "programme_print.html", timetable_context(
        curation, programme, site_url(request, services)))


@pages.get("/programmes/{slug}/timetable.pdf")
def programme_pdf(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                  curation: CurationDep, packs: PacksDep) -> Response:
    programme = curation.programme(slug)
    url = site_url(request, services)
    data = packs.get(("programme", "pdf", slug, curation.version, url),
                     lambda: programme_export(templates.env, curation, programme, "pdf", url))
    return download(data, "pdf", f"{slug}-timetable.pdf")


@api.get("/programmes", response_model=list[ProgrammeSummary])
def api_programmes(curation: CurationDep) -> list[ProgrammeSummary]:
    """Every inset-day programme, newest first."""
    return [programme_summary_of(p) for p in sorted(curation.programmes.values(),
                                                 key=lambda p: p.date, reverse=True)]


@api.get("/programmes/{slug}", response_model=ProgrammeDetail)
def api_programme(slug: str, request: Request, services: ServicesDep, curation: CurationDep,
                  subject: Repeated = None, phase: Repeated = None) -> ProgrammeDetail:
    """The day slot by slot; with subject or phase, only the matching sessions are listed."""
    programme = curation.programme(slug)
    subjects, phases = parse_audience(request.query_params, services.taxonomy)
    grid = build_grid(programme, curation.collections, subjects, phases)
    return programme_detail_of(programme, grid)


router = APIRouter()
router.include_router(pages)
router.include_router(api)
