"""A school's improvement priorities (/schools/<id>/priorities, /priorities/<n>) with what the
product suggests for each, and their JSON twins; only those allowed to see them can."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from kb.content.directory import School
from kb.errors import NotFoundError
from kb.state.schooldata import INDICATORS
from kb.workflows import priorities
from kb.workflows.priorities import Priority
from services.priorities import Suggestions, suggest
from services.runtime import Services
from webapp.deps import CurationDep, PostedForm, ServicesDep, SignedIn, TemplatesDep
from webapp.schemas import writeup_of
from webapp.school_schemas import (
    CollectionSuggestion,
    PartnerOut,
    PriorityDetail,
    PriorityOut,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def _school(services: Services, school_id: str) -> School:
    school = services.directory.schools.get(school_id)
    if school is None:
        raise NotFoundError(f"there is no school called {school_id!r}")
    return school


@pages.get("/schools/{school_id}/priorities", response_class=HTMLResponse)
def school_priorities(school_id: str, request: Request, services: ServicesDep,
                      templates: TemplatesDep, user: SignedIn) -> Response:
    school = _school(services, school_id)
    found = priorities.for_school(services.state, user, school.id, school.family)
    return templates.TemplateResponse(request, "priorities.html", {
        "school": school, "priorities": found, "staff": priorities.is_staff(user, school.id),
        "indicators": [i for i in INDICATORS.values() if school.phase in i.phases],
        "all_indicators": INDICATORS, "min": priorities.MIN_TEXT, "max": priorities.MAX_TEXT,
    })


@pages.post("/schools/{school_id}/priorities")
def add_priority(school_id: str, services: ServicesDep, user: SignedIn,
                 form: PostedForm) -> Response:
    school = _school(services, school_id)
    made = priorities.add(services.state, user, school=school.id, family=school.family,
                          phase=school.phase,
                          text=str(form.get("text", ""))[:priorities.MAX_TEXT * 2],
                          indicator=str(form.get("indicator", ""))[:60])
    return RedirectResponse(f"/priorities/{made.id}", status_code=303)


@pages.get("/priorities", response_class=HTMLResponse)
def all_priorities(request: Request, services: ServicesDep, templates: TemplatesDep,
                   user: SignedIn) -> Response:
    return templates.TemplateResponse(request, "priorities_all.html", {
        "priorities": priorities.visible(services.state, user),
        "names": {s.id: s.name for s in services.directory.schools.values()},
        "all_indicators": INDICATORS})


@pages.get("/priorities/{priority_id:int}", response_class=HTMLResponse)
def priority_page(priority_id: int, request: Request, services: ServicesDep,
                  curation: CurationDep, templates: TemplatesDep, user: SignedIn) -> Response:
    found = priorities.get(services.state, user, priority_id)
    return templates.TemplateResponse(request, "priority.html", {
        "priority": found, "school": _school(services, found.school),
        "staff": priorities.is_staff(user, found.school),
        "ideas": suggest(services, curation, found), "all_indicators": INDICATORS})


@pages.post("/priorities/{priority_id:int}/status")
def priority_status(priority_id: int, services: ServicesDep, user: SignedIn,
                    form: PostedForm) -> Response:
    priorities.set_status(services.state, user, priority_id, str(form.get("status", ""))[:20])
    return RedirectResponse(f"/priorities/{priority_id}", status_code=303)


def _out(p: Priority) -> PriorityOut:
    return PriorityOut(id=p.id, url=f"/priorities/{p.id}", school=p.school, text=p.text,
                       indicator=p.indicator, author=p.author, status=p.status,
                       created_at=p.created_at)


def _detail(p: Priority, ideas: Suggestions) -> PriorityDetail:
    return PriorityDetail(
        **_out(p).model_dump(), writeups=[writeup_of(h.doc) for h in ideas.writeups],
        collections=[CollectionSuggestion(slug=c.slug, url=f"/collections/{c.slug}",
                                          title=c.title, match=m, includes=shared)
                     for c, m, shared in ideas.collections],
        partners=[PartnerOut(
            school=x.school.id, name=x.school.name, url=f"/schools/{x.school.id}",
            score=x.score, offer_kind=x.offer.kind if x.offer else "",
            offer=x.offer.description if x.offer else "", offer_match=x.offer_match,
            results=x.results, value=x.value, context=x.context, reason=x.reason)
            for x in ideas.partners],
        ranking_rule=ideas.rule)


@api.get("/schools/{school_id}/priorities", response_model=list[PriorityOut])
def api_school_priorities(school_id: str, services: ServicesDep,
                          user: SignedIn) -> list[PriorityOut]:
    """A school's priorities: its staff, its family lead and challenge leads only."""
    school = _school(services, school_id)
    return [_out(p) for p in priorities.for_school(services.state, user, school.id,
                                                   school.family)]


@api.get("/priorities/{priority_id}", response_model=PriorityDetail)
def api_priority(priority_id: int, services: ServicesDep, curation: CurationDep,
                 user: SignedIn) -> PriorityDetail:
    """One priority with the write-ups, collections and partner schools suggested for it."""
    found = priorities.get(services.state, user, priority_id)
    return _detail(found, suggest(services, curation, found))


router = APIRouter()
router.include_router(pages)
router.include_router(api)
