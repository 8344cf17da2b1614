"""Pages about the people behind the write-ups: schools, families and the coverage map."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kb.content.coverage import build_coverage
from kb.errors import BadInputError, NotFoundError
from kb.workflows.support import counts as support_counts
from webapp.deps import ServicesDep, TemplatesDep

router = APIRouter(include_in_schema=False)


@router.get("/schools/{school_id}", response_class=HTMLResponse)
def school_page(school_id: str, request: Request, services: ServicesDep,
                templates: TemplatesDep) -> HTMLResponse:
    school = services.directory.schools.get(school_id)
    if school is None:
        raise NotFoundError(f"there is no school called {school_id!r}")
    return templates.TemplateResponse(request, "school.html", {
        "school": school, "family": services.directory.families[school.family],
        "docs": services.engine.documents({"school": (school.id,)}),
    })


@router.get("/families", response_class=HTMLResponse)
def families_page(request: Request, services: ServicesDep,
                  templates: TemplatesDep) -> HTMLResponse:
    counts = services.engine.tag_counts("family")
    families = [(f, counts.get(f.id, 0), services.directory.schools_in(f.id))
                for f in services.directory.families.values()]
    return templates.TemplateResponse(request, "families.html", {"families": families})


@router.get("/families/{family_id}", response_class=HTMLResponse)
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


@router.get("/coverage", response_class=HTMLResponse)
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
