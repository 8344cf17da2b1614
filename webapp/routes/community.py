"""Pages about the people behind the write-ups: schools (with the schools like each one and
its JSON twin /api/schools/<id>), families and the coverage map."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kb.content.coverage import build_coverage
from kb.content.directory import School
from kb.errors import BadInputError, NotFoundError
from kb.workflows import priorities
from kb.workflows.support import counts as support_counts
from services.likeness import RULE, school_likeness
from services.runtime import Services
from webapp.deps import ServicesDep, TemplatesDep
from webapp.schemas import writeup_of
from webapp.school_schemas import Context, SchoolProfile, SimilarSchool

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])
SIMILAR_WRITEUPS = 3  # write-ups shown under each similar school


def _school(services: Services, school_id: str) -> School:
    school = services.directory.schools.get(school_id)
    if school is None:
        raise NotFoundError(f"there is no school called {school_id!r}")
    return school


@pages.get("/schools/{school_id}", response_class=HTMLResponse)
def school_page(school_id: str, request: Request, services: ServicesDep,
                templates: TemplatesDep) -> HTMLResponse:
    school = _school(services, school_id)
    context, similar = school_likeness(services, school.id)
    user = getattr(request.state, "user", None)
    return templates.TemplateResponse(request, "school.html", {
        "sees_priorities": user is not None and priorities.may_see(user, school.id,
                                                                   school.family),
        "school": school, "family": services.directory.families[school.family],
        "docs": services.engine.documents({"school": (school.id,)}),
        "context": context, "rule": RULE,
        "similar": [(like, services.engine.documents({"school": (like.school.id,)})
                     [:SIMILAR_WRITEUPS]) for like in similar],
    })


@api.get("/schools/{school_id}", response_model=SchoolProfile)
def api_school(school_id: str, services: ServicesDep) -> SchoolProfile:
    """A school's context and the schools most like it, each with why and its write-ups."""
    school = _school(services, school_id)
    context, similar = school_likeness(services, school.id)
    return SchoolProfile(
        school=school.id, name=school.name, phase=school.phase, family=school.family,
        context=Context(pupils=context.pupils, disadvantaged_pct=context.disadvantaged,
                        eal_pct=context.eal, send_pct=context.send, setting=context.setting,
                        inspection_grade=context.inspection) if context else None,
        similar=[SimilarSchool(
            school=like.school.id, name=like.school.name, url=f"/schools/{like.school.id}",
            phase=like.school.phase, distance=like.distance, reason=like.reason,
            writeups=[writeup_of(d) for d in services.engine.documents(
                {"school": (like.school.id,)})[:SIMILAR_WRITEUPS]]) for like in similar],
        rule=RULE)


@pages.get("/families", response_class=HTMLResponse)
def families_page(request: Request, services: ServicesDep,
                  templates: TemplatesDep) -> HTMLResponse:
    counts = services.engine.tag_counts("family")
    families = [(f, counts.get(f.id, 0), services.directory.schools_in(f.id))
                for f in services.directory.families.values()]
    return templates.TemplateResponse(request, "families.html", {"families": families})


@pages.get("/families/{family_id}", response_class=HTMLResponse)
def family_page(family_id: str, request: Request, services: ServicesDep,
                templates: TemplatesDep) -> HTMLResponse:
    family = services.directory.families.get(family_id)
    if family is None:
        raise NotFoundError(f"there is no family of schools called {family_id!r}")
    docs = services.engine.documents({"family": (family.id,)})
    per_school: dict[str, int] = {}
    for doc in docs:
        per_school[doc.tags["school"][0]] = per_school.get(doc.tags["school"][0], 0) + 1
    return templates.TemplateResponse(request, "family.html", {
        "family": family, "schools": services.directory.schools_in(family.id),
        "per_school": per_school, "docs": docs,
        "support_counts": support_counts(services.state, family=family.id),
    })


@pages.get("/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, services: ServicesDep,
                  templates: TemplatesDep) -> HTMLResponse:
    stages = []
    vocab = services.taxonomy.for_field("key_stages")
    for value in request.query_params.getlist("key_stage"):
        term = vocab.resolve(value)
        if term is None:
            raise BadInputError("parameter 'key_stage': "
                                + services.taxonomy.unknown_tag_message("key_stages", value[:20]))
        stages.append(term)
    coverage = build_coverage((d.tags for d in services.engine.documents()), services.taxonomy,
                              stages)
    return templates.TemplateResponse(request, "coverage.html", {
        "coverage": coverage, "stages": stages, "all_stages": vocab.terms,
    })


router = APIRouter()
router.include_router(pages)
router.include_router(api)
