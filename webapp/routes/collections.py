"""Collections: the list, a collection's page, print view and handout downloads, and their JSON
twins /api/collections and /api/collections/<slug> (curators' forms are in routes/curate.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kb.curation.catalogue import Curation
from webapp.context import audience_context, site_url
from webapp.deps import CurationDep, PacksDep, ServicesDep, TemplatesDep
from webapp.handouts import collection_export, download, handout_context
from webapp.params import Repeated, parse_audience
from webapp.schemas import (CollectionDetail, CollectionList, collection_detail_of,
                            collection_summary_of)

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
    return templates.TemplateResponse(request, "collection.html", handout_context(
        curation, collection, site_url(request, services)))


@pages.get("/collections/{slug}/print", response_class=HTMLResponse)
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


@pages.get("/collections/{slug}/handout.pdf")
def collection_pdf(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                   curation: CurationDep, packs: PacksDep) -> Response:
    return _collection_file("pdf", slug, request, services, templates, curation, packs)


@pages.get("/collections/{slug}/handout.zip")
def collection_zip(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                   curation: CurationDep, packs: PacksDep) -> Response:
    return _collection_file("md", slug, request, services, templates, curation, packs)


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
