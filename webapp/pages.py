"""Server-rendered pages: home, search, write-up, browse by subject and intervention."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse

from kb.errors import NotFoundError
from webapp.deps import CurationDep, SearchDep, ServicesDep, TemplatesDep
from services.search import record_open, record_search, run_search
from webapp.context import history_context, support_context, transfer_context
from webapp.params import PARAM_OF_FIELD

router = APIRouter(include_in_schema=False)

FACET_FIELDS = ("subjects", "interventions", "phase", "key_stages", "pupil_groups",
                "evidence_strength", "family", "year")


@router.get("/", response_class=HTMLResponse)
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


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                search: SearchDep, background: BackgroundTasks) -> HTMLResponse:
    results, search_id = run_search(services, search.query)
    params = dict(search.params)
    if search.query.text:
        params["q"] = [search.query.text]
    if search_id:  # one log entry per search, not per page turned
        background.add_task(record_search, services, results, search_id)
    return templates.TemplateResponse(request, "search.html", {
        "results": results, "params": params, "filters": search.query.filters,
        "facet_fields": FACET_FIELDS, "param_of": PARAM_OF_FIELD, "search_id": search_id,
    })


@router.get("/practice/{slug}", response_class=HTMLResponse)
def practice_page(slug: str, request: Request, services: ServicesDep,
                  templates: TemplatesDep, curation: CurationDep,
                  background: BackgroundTasks) -> HTMLResponse:
    doc = services.engine.document(slug)
    opened_from = request.query_params.get("from", "")
    if opened_from:
        background.add_task(record_open, services, opened_from, slug)
    from kb.content.markdown import render_html

    _, headings = render_html(doc.body)
    return templates.TemplateResponse(request, "practice.html", {
        "doc": doc, "headings": [h for h in headings if h.level == 2],
        "related": services.engine.related(slug),
        "used_in": curation.collections_using(slug),
        **history_context(request, services, slug, doc.tags["family"][0]),
        **support_context(request, services, slug, doc.tags["school"][0]),
        **transfer_context(request, services, slug, doc.tags["school"][0]),
    })


def _term_counts(services: ServicesDep, field_name: str) -> list[tuple[object, int]]:
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

    router.add_api_route(f"/{kind}", index_page, response_class=HTMLResponse)
    router.add_api_route(f"/{kind}/{{term_id}}", term_page, response_class=HTMLResponse)


_browse("subjects", "subjects")
_browse("interventions", "interventions")
