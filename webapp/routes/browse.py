"""Browsing: the home page, write-ups by subject and by intervention, and the JSON twin of the
vocabularies they are browsed by, /api/taxonomy."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kb.errors import NotFoundError
from services.runtime import Services
from webapp.deps import ServicesDep, TemplatesDep
from webapp.params import PARAM_OF_FIELD
from webapp.schemas import Term, vocabularies_of

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


@pages.get("/", response_class=HTMLResponse)
def home(request: Request, services: ServicesDep, templates: TemplatesDep) -> HTMLResponse:
    engine = services.engine
    return templates.TemplateResponse(request, "home.html", {
        "latest": engine.documents()[:6],
        "total": len(engine.documents()),
        "subjects": _term_counts(services, "subjects"),
        "interventions": _term_counts(services, "interventions"),
        "families": len(services.directory.families),
        "schools": len({d.tags["school"][0] for d in engine.documents()}),
    })


def _term_counts(services: Services, field_name: str) -> list[tuple[object, int]]:
    counts = services.engine.tag_counts(field_name)
    vocab = services.taxonomy.for_field(field_name)
    return [(t, counts.get(t.id, 0)) for t in vocab.terms]


def _browse(field_name: str, kind: str):  # type: ignore[no-untyped-def]
    def index_page(request: Request, services: ServicesDep,
                   templates: TemplatesDep) -> HTMLResponse:
        return templates.TemplateResponse(request, "browse_index.html", {
            "kind": kind, "field": field_name, "terms": _term_counts(services, field_name),
        })

    def term_page(term_id: str, request: Request, services: ServicesDep,
                  templates: TemplatesDep) -> HTMLResponse:
        term = services.taxonomy.for_field(field_name).get(term_id)
        if term is None:
            raise NotFoundError(f"there is no {kind.rstrip('s')} called {term_id!r}")
        docs = services.engine.documents({field_name: (term_id,)})
        other = "interventions" if field_name == "subjects" else "subjects"
        counts: dict[str, int] = {}
        for doc in docs:
            for value in doc.tags.get(other, ()):
                counts[value] = counts.get(value, 0) + 1
        return templates.TemplateResponse(request, "browse_term.html", {
            "kind": kind, "field": field_name, "term": term, "docs": docs, "other": other,
            "other_counts": sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])),
            "param": PARAM_OF_FIELD[field_name],
        })

    pages.add_api_route(f"/{kind}", index_page, response_class=HTMLResponse)
    pages.add_api_route(f"/{kind}/{{term_id}}", term_page, response_class=HTMLResponse)


_browse("subjects", "subjects")
_browse("interventions", "interventions")


@api.get("/taxonomy", response_model=dict[str, list[Term]])
def api_taxonomy(services: ServicesDep) -> dict[str, list[Term]]:
    """The controlled vocabularies: id, label, description and aliases of every term."""
    return vocabularies_of(services.taxonomy)


router = APIRouter()
router.include_router(pages)
router.include_router(api)
