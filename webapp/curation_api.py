"""JSON twins of the collection and programme pages, under /api."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from kb.curation.timetable import build_grid
from webapp.deps import CurationDep, ServicesDep
from webapp.params import parse_audience
from webapp.schemas import (CollectionDetail, CollectionList, ProgrammeDetail, ProgrammeSummary,
                            collection_detail_of, collection_summary_of, programme_detail_of,
                            programme_summary_of)

router = APIRouter(prefix="/api", tags=["collections"])

Repeated = Annotated[list[str] | None, Query()]


@router.get("/collections", response_model=CollectionList)
def api_collections(request: Request, services: ServicesDep, curation: CurationDep,
                    subject: Repeated = None, phase: Repeated = None) -> CollectionList:
    """Published collections by title, optionally for some subjects and phases."""
    subjects, phases = parse_audience(request.query_params, services.taxonomy)
    found = [c for c in curation.published_collections() if c.is_for(subjects, phases)]
    return CollectionList(total=len(found), results=[collection_summary_of(c) for c in found])


@router.get("/collections/{slug}", response_model=CollectionDetail)
def api_collection(slug: str, curation: CurationDep) -> CollectionDetail:
    """One collection: its plan, its write-ups in order with the curator's notes, its sessions."""
    return collection_detail_of(curation, curation.collection(slug))


@router.get("/programmes", response_model=list[ProgrammeSummary])
def api_programmes(curation: CurationDep) -> list[ProgrammeSummary]:
    """Every inset-day programme, newest first."""
    return [programme_summary_of(p) for p in sorted(curation.programmes.values(),
                                                 key=lambda p: p.date, reverse=True)]


@router.get("/programmes/{slug}", response_model=ProgrammeDetail)
def api_programme(slug: str, request: Request, services: ServicesDep, curation: CurationDep,
                  subject: Repeated = None, phase: Repeated = None) -> ProgrammeDetail:
    """The day slot by slot; with subject or phase, only the matching sessions are listed."""
    programme = curation.programme(slug)
    subjects, phases = parse_audience(request.query_params, services.taxonomy)
    grid = build_grid(programme, curation.collections, subjects, phases)
    return programme_detail_of(programme, grid)
