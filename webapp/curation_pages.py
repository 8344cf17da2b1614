"""Pages for collections and inset-day programmes: lists, public pages, handouts and downloads."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kb.curation.catalogue import Curation
from webapp.context import audience_context, site_url
from webapp.deps import CurationDep, PacksDep, ServicesDep, TemplatesDep
from webapp.handouts import (collection_export, download, handout_context, programme_export,
                             timetable_context)
from webapp.params import parse_audience

router = APIRouter(include_in_schema=False)


@router.get("/collections", response_class=HTMLResponse)
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


@router.get("/collections/{slug}", response_class=HTMLResponse)
def collection_page(slug: str, request: Request, services: ServicesDep,
                    templates: TemplatesDep, curation: CurationDep) -> HTMLResponse:
    collection = curation.collection(slug)
    return templates.TemplateResponse(request, "collection.html", handout_context(
        curation, collection, site_url(request, services)))


@router.get("/collections/{slug}/print", response_class=HTMLResponse)
def collection_print(slug: str, request: Request, services: ServicesDep,
                     templates: TemplatesDep, curation: CurationDep) -> HTMLResponse:
    collection = curation.collection(slug)
    return templates.TemplateResponse(request, "collection_print.html", handout_context(
        curation, collection, site_url(request, services)))


def _collection_file(fmt: str, slug: str, request: Request, services: ServicesDep,
                     templates: TemplatesDep, curation: Curation, packs: PacksDep) -> Response:
    collection = curation.collection(slug)
    url = site_url(request, services)
    data = packs.get(("collection", fmt, slug, curation.version, url),
                     lambda: collection_export(templates.env, curation, collection, fmt, url))
    return download(data, fmt, f"{slug}.{'zip' if fmt == 'md' else fmt}")


@router.get("/collections/{slug}/handout.pdf")
def collection_pdf(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                   curation: CurationDep, packs: PacksDep) -> Response:
    return _collection_file("pdf", slug, request, services, templates, curation, packs)


@router.get("/collections/{slug}/handout.zip")
def collection_zip(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                   curation: CurationDep, packs: PacksDep) -> Response:
    return _collection_file("md", slug, request, services, templates, curation, packs)


@router.get("/programmes", response_class=HTMLResponse)
def programmes_page(request: Request, templates: TemplatesDep,
                    curation: CurationDep) -> HTMLResponse:
    return templates.TemplateResponse(request, "programmes.html", {
        "programmes": sorted(curation.programmes.values(), key=lambda p: p.date, reverse=True)})


@router.get("/programmes/{slug}", response_class=HTMLResponse)
def programme_page(slug: str, request: Request, services: ServicesDep,
                   templates: TemplatesDep, curation: CurationDep) -> HTMLResponse:
    programme = curation.programme(slug)
    subjects, phases = parse_audience(request.query_params, services.taxonomy)
    used = [curation.collections[s.collection] for _, s in programme.sessions()]
    strand_subjects = {s for strand in programme.strands for s in strand.subjects}
    return templates.TemplateResponse(request, "programme.html", {
        **timetable_context(curation, programme, site_url(request, services), subjects, phases),
        **audience_context(services, used, subjects, phases, strand_subjects),
    })


@router.get("/programmes/{slug}/print", response_class=HTMLResponse)
def programme_print(slug: str, request: Request, services: ServicesDep,
                    templates: TemplatesDep, curation: CurationDep) -> HTMLResponse:
    programme = curation.programme(slug)
    return templates.TemplateResponse(request, "programme_print.html", timetable_context(
        curation, programme, site_url(request, services)))


@router.get("/programmes/{slug}/timetable.pdf")
def programme_pdf(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                  curation: CurationDep, packs: PacksDep) -> Response:
    programme = curation.programme(slug)
    url = site_url(request, services)
    data = packs.get(("programme", "pdf", slug, curation.version, url),
                     lambda: programme_export(templates.env, curation, programme, "pdf", url))
    return download(data, "pdf", f"{slug}-timetable.pdf")
