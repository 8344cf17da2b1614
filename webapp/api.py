"""The JSON API under /api: search, practices, taxonomy and health, with pydantic models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query
from pydantic import BaseModel

from indexer.search.engine import Hit, SearchResults
from indexer.store import StoredDoc
from webapp.deps import SearchDep, ServicesDep
from services.search import record_search, run_search
from webapp.templating import render_snippet

router = APIRouter(prefix="/api", tags=["api"])

Repeated = Annotated[list[str] | None, Query()]


class Evidence(BaseModel):
    strength: str
    measure: str


class PracticeSummary(BaseModel):
    slug: str
    url: str
    title: str
    summary: str
    school: str
    school_name: str
    family: str
    family_name: str
    date: str
    phase: str
    key_stages: list[str]
    subjects: list[str]
    interventions: list[str]
    pupil_groups: list[str]
    evidence: Evidence


class Practice(PracticeSummary):
    authors: list[str]
    review_due: str
    body_markdown: str
    body_html: str
    related: list[PracticeSummary]


class SearchResult(BaseModel):
    slug: str
    url: str
    title: str
    summary: str
    school: str
    school_name: str
    family: str
    family_name: str
    date: str
    subjects: list[str]
    interventions: list[str]
    evidence: Evidence
    score: float
    section: str
    snippet: str
    snippet_html: str


class FacetCount(BaseModel):
    value: str
    label: str
    count: int
    selected: bool


class SearchResponse(BaseModel):
    query: str
    total: int
    page: int
    pages: int
    mode: str
    notices: list[str]
    results: list[SearchResult]
    facets: dict[str, list[FacetCount]]


class PracticeList(BaseModel):
    total: int
    results: list[PracticeSummary]


class EvidenceLink(BaseModel):
    source: str
    url: str
    summary: str


class Term(BaseModel):
    id: str
    label: str
    description: str
    aliases: list[str]
    evidence: EvidenceLink | None = None


class Health(BaseModel):
    status: str
    generation: str
    documents: int
    chunks: int
    semantic: str
    semantic_problem: str
    model: str
    built_at: str


def summary_of(doc: StoredDoc) -> PracticeSummary:
    tags, meta = doc.tags, doc.meta
    return PracticeSummary(
        slug=doc.slug, url=f"/practice/{doc.slug}", title=doc.title, summary=doc.summary,
        school=tags["school"][0], school_name=meta.get("school_name", ""),
        family=tags["family"][0], family_name=meta.get("family_name", ""), date=doc.date,
        phase=(tags.get("phase") or ("",))[0], key_stages=list(tags.get("key_stages", ())),
        subjects=list(tags.get("subjects", ())), interventions=list(tags.get("interventions", ())),
        pupil_groups=list(tags.get("pupil_groups", ())),
        evidence=Evidence(strength=(tags.get("evidence_strength") or ("",))[0],
                          measure=meta.get("evidence_measure", "")))


def result_of(hit: Hit) -> SearchResult:
    base = summary_of(hit.doc)
    anchor = f"#{hit.anchor}" if hit.anchor else ""
    return SearchResult(
        slug=base.slug, url=base.url + anchor, title=base.title, summary=base.summary,
        school=base.school, school_name=base.school_name, family=base.family,
        family_name=base.family_name, date=base.date, subjects=base.subjects,
        interventions=base.interventions, evidence=base.evidence, score=hit.score,
        section=hit.section, snippet="".join(t for t, _ in hit.snippet),
        snippet_html=str(render_snippet(hit.snippet)))


def response_of(results: SearchResults, services: ServicesDep) -> SearchResponse:
    from webapp.templating import FIELD_TITLES  # noqa: F401  (labels below)

    def label(field_name: str, value: str) -> str:
        if field_name == "school":
            school = services.directory.schools.get(value)
            return school.name if school else value
        if field_name == "family":
            family = services.directory.families.get(value)
            return family.name if family else value
        if field_name == "year":
            return value
        return services.taxonomy.label(field_name, value)

    return SearchResponse(
        query=results.query.text, total=results.total, page=results.query.page,
        pages=results.pages, mode=results.mode, notices=list(results.notices),
        results=[result_of(h) for h in results.hits],
        facets={f: [FacetCount(value=v.value, label=label(f, v.value), count=v.count,
                               selected=v.selected) for v in values]
                for f, values in results.facets.items()})


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
    return response_of(results, services)


@router.get("/practices", response_model=PracticeList)
def api_practices(services: ServicesDep, request: SearchDep, subject: Repeated = None,
                  intervention: Repeated = None, phase: Repeated = None,
                  key_stage: Repeated = None, pupil_group: Repeated = None,
                  evidence: Repeated = None, school: Repeated = None, family: Repeated = None,
                  year: Repeated = None) -> PracticeList:
    """Every published write-up (newest first), optionally filtered by tags."""
    docs = services.engine.documents(request.query.filters)
    return PracticeList(total=len(docs), results=[summary_of(d) for d in docs])


@router.get("/practices/{slug}", response_model=Practice)
def api_practice(slug: str, services: ServicesDep) -> Practice:
    """One write-up in full, with its related practices."""
    from kb.content.markdown import render_html

    doc = services.engine.document(slug)
    base = summary_of(doc)
    return Practice(**base.model_dump(), authors=doc.meta.get("authors", []),
                    review_due=doc.meta.get("review_due", ""), body_markdown=doc.body,
                    body_html=render_html(doc.body)[0],
                    related=[summary_of(d) for d, _ in services.engine.related(slug)])


@router.get("/taxonomy", response_model=dict[str, list[Term]])
def api_taxonomy(services: ServicesDep) -> dict[str, list[Term]]:
    """The controlled vocabularies: id, label, description and aliases of every term."""
    return {name: [Term(id=t.id, label=t.label, description=t.description,
                        aliases=list(t.aliases),
                        evidence=EvidenceLink(source=t.evidence_source, url=t.evidence_url,
                                              summary=t.evidence_summary)
                        if t.evidence_source else None) for t in vocab.terms]
            for name, vocab in services.taxonomy.vocabularies.items()}


@router.get("/health", response_model=Health)
def api_health(services: ServicesDep) -> Health:
    """Index generation, counts, and whether search by meaning is working."""
    return Health(status="ok", **services.engine.health())
