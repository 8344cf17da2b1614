"""JSON twins of the collection and programme pages, under /api, with pydantic models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from kb.curation.collection import Collection
from kb.curation.catalogue import Curation
from kb.content.documents import Document
from kb.curation.programme import Programme
from kb.curation.timetable import build_grid
from webapp.deps import CurationDep, ServicesDep
from webapp.params import parse_audience

router = APIRouter(prefix="/api", tags=["collections"])

Repeated = Annotated[list[str] | None, Query()]


class PlanStep(BaseModel):
    minutes: int
    activity: str


class CollectionSummary(BaseModel):
    slug: str
    url: str
    title: str
    purpose: str
    subjects: list[str]
    phases: list[str]
    curator: str
    minutes: int
    writeups: int


class WriteupRef(BaseModel):
    slug: str
    url: str
    title: str
    summary: str
    school_name: str
    family_name: str
    date: str
    evidence_strength: str


class CollectionItem(BaseModel):
    position: int
    writeup: WriteupRef
    why: str
    questions: list[str]
    task: str


class SessionRef(BaseModel):
    programme: str
    programme_title: str
    start: str
    end: str
    room: str
    facilitators: list[str]


class CollectionDetail(CollectionSummary):
    introduction_markdown: str
    plan: list[PlanStep]
    items: list[CollectionItem]
    sessions: list[SessionRef]
    print_url: str
    pdf_url: str
    markdown_zip_url: str


class CollectionList(BaseModel):
    total: int
    results: list[CollectionSummary]


class Strand(BaseModel):
    id: str
    title: str
    subjects: list[str]
    room: str
    description: str


class Session(BaseModel):
    strand: str
    title: str
    collection: str
    collection_url: str
    room: str
    facilitators: list[str]
    subjects: list[str]
    phases: list[str]


class Slot(BaseModel):
    start: str
    end: str
    title: str
    room: str
    plenary: bool
    sessions: list[Session]


class ProgrammeSummary(BaseModel):
    slug: str
    url: str
    title: str
    date: str
    venue: str
    summary: str
    sessions: int


class ProgrammeDetail(ProgrammeSummary):
    organiser: str
    strands: list[Strand]
    slots: list[Slot]
    shown: int
    timetable_pdf_url: str


def summary_of(c: Collection) -> CollectionSummary:
    return CollectionSummary(slug=c.slug, url=f"/collections/{c.slug}", title=c.title,
                             purpose=c.purpose, subjects=list(c.subjects),
                             phases=list(c.phases), curator=c.curator, minutes=c.minutes,
                             writeups=len(c.items))


def writeup_ref(doc: Document) -> WriteupRef:
    return WriteupRef(slug=doc.slug, url=f"/practice/{doc.slug}", title=doc.title,
                      summary=doc.summary, school_name=doc.school_name,
                      family_name=doc.family_name, date=doc.date.isoformat(),
                      evidence_strength=doc.evidence_strength)


def detail_of(curation: Curation, c: Collection) -> CollectionDetail:
    items = [CollectionItem(position=n, writeup=writeup_ref(doc), why=item.why,
                            questions=list(item.questions), task=item.task)
             for n, (item, doc) in enumerate(curation.items_of(c), start=1)]
    sessions = [SessionRef(programme=p.slug, programme_title=p.title, start=slot.start,
                           end=slot.end, room=p.room_name(s.room),
                           facilitators=list(s.facilitators))
                for p, slot, s in curation.sessions_using(c.slug)]
    return CollectionDetail(**summary_of(c).model_dump(), introduction_markdown=c.body,
                            plan=[PlanStep(minutes=s.minutes, activity=s.activity)
                                  for s in c.plan], items=items, sessions=sessions,
                            print_url=f"/collections/{c.slug}/print",
                            pdf_url=f"/collections/{c.slug}/handout.pdf",
                            markdown_zip_url=f"/collections/{c.slug}/handout.zip")


def programme_summary(p: Programme) -> ProgrammeSummary:
    return ProgrammeSummary(slug=p.slug, url=f"/programmes/{p.slug}", title=p.title,
                            date=p.date.isoformat(), venue=p.venue, summary=p.summary,
                            sessions=len(p.sessions()))


@router.get("/collections", response_model=CollectionList)
def api_collections(request: Request, services: ServicesDep, curation: CurationDep,
                    subject: Repeated = None, phase: Repeated = None) -> CollectionList:
    """Published collections by title, optionally for some subjects and phases."""
    subjects, phases = parse_audience(request.query_params, services.taxonomy)
    found = [c for c in curation.published_collections() if c.is_for(subjects, phases)]
    return CollectionList(total=len(found), results=[summary_of(c) for c in found])


@router.get("/collections/{slug}", response_model=CollectionDetail)
def api_collection(slug: str, curation: CurationDep) -> CollectionDetail:
    """One collection: its plan, its write-ups in order with the curator's notes, its sessions."""
    return detail_of(curation, curation.collection(slug))


@router.get("/programmes", response_model=list[ProgrammeSummary])
def api_programmes(curation: CurationDep) -> list[ProgrammeSummary]:
    """Every inset-day programme, newest first."""
    return [programme_summary(p) for p in sorted(curation.programmes.values(),
                                                 key=lambda p: p.date, reverse=True)]


@router.get("/programmes/{slug}", response_model=ProgrammeDetail)
def api_programme(slug: str, request: Request, services: ServicesDep, curation: CurationDep,
                  subject: Repeated = None, phase: Repeated = None) -> ProgrammeDetail:
    """The day slot by slot; with subject or phase, only the matching sessions are listed."""
    programme = curation.programme(slug)
    subjects, phases = parse_audience(request.query_params, services.taxonomy)
    grid = build_grid(programme, curation.collections, subjects, phases)
    slots = []
    for row in grid.rows:
        cells = [c for c in row.cells if c is not None]
        slots.append(Slot(
            start=row.slot.start, end=row.slot.end, title=row.slot.title,
            room=row.room_name, plenary=row.slot.is_plenary,
            sessions=[Session(strand=c.strand.id, title=c.title, collection=c.collection.slug,
                              collection_url=f"/collections/{c.collection.slug}",
                              room=c.room_name, facilitators=list(c.session.facilitators),
                              subjects=list(c.collection.subjects),
                              phases=list(c.collection.phases)) for c in cells]))
    return ProgrammeDetail(
        **programme_summary(programme).model_dump(), organiser=programme.organiser,
        strands=[Strand(id=s.id, title=s.title, subjects=list(s.subjects),
                        room=programme.room_name(s.room), description=s.description)
                 for s in programme.strands],
        slots=slots, shown=grid.shown, timetable_pdf_url=f"/programmes/{slug}/timetable.pdf")
