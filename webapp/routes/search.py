"""Searching: the results page and its JSON twin, /api/search (a search with words, on its
first page, is logged after the answer is sent)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse

from services.search import (
    collections_by_material,
    matching_collections,
    record_search,
    run_search,
)
from webapp.deps import CurationDep, Repeated, SearchDep, ServicesDep, TemplatesDep
from webapp.params import PARAM_OF_FIELD
from webapp.schemas import SearchResponse, search_response_of

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])

Sort = Literal["relevance", "newest", "evidence"]
SORT_LABELS = {"relevance": "Best match", "newest": "Newest first",
               "evidence": "Strongest evidence first"}
FACET_FIELDS = ("subjects", "interventions", "phase", "key_stages", "pupil_groups",
                "evidence_strength", "family", "year")


@pages.get("/search", response_class=HTMLResponse)
def search_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                search: SearchDep, curation: CurationDep,
                background: BackgroundTasks) -> HTMLResponse:
    results, search_id = run_search(services, search.query)
    found_in = collections_by_material(services, curation, results)
    collections = matching_collections(curation, results, found_in)
    params = dict(search.params)
    if search.query.text:
        params["q"] = [search.query.text]
    if search_id:  # one log entry per search, not per page turned
        background.add_task(record_search, services, results, search_id)
    return templates.TemplateResponse(request, "search.html", {
        "results": results, "params": params, "filters": search.query.filters,
        "facet_fields": FACET_FIELDS, "param_of": PARAM_OF_FIELD, "search_id": search_id,
        "collections": collections, "found_in": found_in, "sorts": SORT_LABELS,
        "strong": [h for h in results.hits if h.group == "strong"],
        "related": [h for h in results.hits if h.group != "strong"],
    })


@api.get("/search", response_model=SearchResponse)
def api_search(services: ServicesDep, request: SearchDep, curation: CurationDep,
               background: BackgroundTasks, q: str = "", page: int = 1,
               page_size: int = 10, subject: Repeated = None, intervention: Repeated = None,
               phase: Repeated = None, key_stage: Repeated = None, pupil_group: Repeated = None,
               evidence: Repeated = None, school: Repeated = None, family: Repeated = None,
               year: Repeated = None, sort: Sort = "relevance",
               exact: bool = False) -> SearchResponse:
    """Hybrid search with tag filters (repeat a parameter for OR) and facet counts. Misspelt
    words are corrected (`corrected_from` says so; `exact=1` searches the words as typed);
    strong matches come before less closely related ones (`group`); each result says why it
    is there (`reasons`); curated sessions that fit the search are in `collections`."""
    results, search_id = run_search(services, request.query)
    if search_id:
        background.add_task(record_search, services, results, search_id)
    found_in = collections_by_material(services, curation, results)
    return search_response_of(results, services.taxonomy, services.directory,
                              matching_collections(curation, results, found_in), found_in)


router = APIRouter()
router.include_router(pages)
router.include_router(api)
