"""The JSON API under /api: search, practices, taxonomy and health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query

from services.search import record_search, run_search
from webapp.deps import SearchDep, ServicesDep
from webapp.schemas import (Health, Practice, PracticeList, SearchResponse, Term, practice_of,
                            search_response_of, vocabularies_of, writeup_of)

router = APIRouter(prefix="/api", tags=["api"])

Repeated = Annotated[list[str] | None, Query()]


@router.get("/search", response_model=SearchResponse)
def api_search(services: ServicesDep, request: SearchDep, background: BackgroundTasks,
               q: str = "", page: int = 1,
               page_size: int = 10, subject: Repeated = None, intervention: Repeated = None,
               phase: Repeated = None, key_stage: Repeated = None, pupil_group: Repeated = None,
               evidence: Repeated = None, school: Repeated = None, family: Repeated = None,
               year: Repeated = None) -> SearchResponse:
    """Hybrid search with tag filters (repeat a parameter for OR) and facet counts."""
    results, search_id = run_search(services, request.query)
    if search_id:
        background.add_task(record_search, services, results, search_id)
    return search_response_of(results, services.taxonomy, services.directory)


@router.get("/practices", response_model=PracticeList)
def api_practices(services: ServicesDep, request: SearchDep, subject: Repeated = None,
                  intervention: Repeated = None, phase: Repeated = None,
                  key_stage: Repeated = None, pupil_group: Repeated = None,
                  evidence: Repeated = None, school: Repeated = None, family: Repeated = None,
                  year: Repeated = None) -> PracticeList:
    """Every published write-up (newest first), optionally filtered by tags."""
    docs = services.engine.documents(request.query.filters)
    return PracticeList(total=len(docs), results=[writeup_of(d) for d in docs])


@router.get("/practices/{slug}", response_model=Practice)
def api_practice(slug: str, services: ServicesDep) -> Practice:
    """One write-up in full, with its related practices."""
    doc = services.engine.document(slug)
    return practice_of(doc, [d for d, _ in services.engine.related(slug)])


@router.get("/taxonomy", response_model=dict[str, list[Term]])
def api_taxonomy(services: ServicesDep) -> dict[str, list[Term]]:
    """The controlled vocabularies: id, label, description and aliases of every term."""
    return vocabularies_of(services.taxonomy)


@router.get("/health", response_model=Health)
def api_health(services: ServicesDep) -> Health:
    """Index generation, counts, and whether search by meaning is working."""
    return Health(status="ok", **services.engine.health())
