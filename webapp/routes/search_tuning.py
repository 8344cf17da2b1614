"""Teaching the search (moderators and curators): the page listing taught phrases and best
bets with their history, the forms that add and remove them (also offered on results pages
and the gap list), and the JSON twin /api/search/tuning."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from kb.curation.search_tuning import ALIAS_FIELDS, BET_KINDS
from kb.errors import BadInputError, NotFoundError
from services.search_tuning import teach, tuning_editor, tuning_history
from webapp.deps import CurationDep, PostedForm, Reviewer, ServicesDep, TemplatesDep
from webapp.params import safe_next

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])
PAGE = "/search/tuning"


class TaughtAliasOut(BaseModel):
    phrase: str
    field: str
    term: str
    added_by: str
    added: str


class BestBetOut(BaseModel):
    query: str
    kind: str
    slug: str
    note: str
    added_by: str
    added: str


class SearchTuningOut(BaseModel):
    aliases: list[TaughtAliasOut]
    best_bets: list[BestBetOut]


def _field(form: PostedForm, name: str, limit: int = 300) -> str:
    value = form.get(name, "")
    return " ".join(value.split())[:limit] if isinstance(value, str) else ""


def _page(request: Request, services: ServicesDep, templates: TemplatesDep,
          curation: CurationDep, error: str = "", status: int = 200,
          values: dict[str, str] | None = None) -> HTMLResponse:
    tuning = tuning_editor(services, curation).load()
    return templates.TemplateResponse(request, "search_tuning.html", {
        "tuning": tuning, "history": tuning_history(services)[:20], "error": error,
        "fields": ALIAS_FIELDS, "done": request.query_params.get("done", ""),
        "values": values or {"phrase": request.query_params.get("phrase", "")[:80],
                             "query": request.query_params.get("query", "")[:80]},
        "collections": curation.published_collections(),
    }, status_code=status)


@pages.get(PAGE, response_class=HTMLResponse)
def tuning_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                curation: CurationDep, user: Reviewer) -> HTMLResponse:
    return _page(request, services, templates, curation)


def _done(form: PostedForm, what: str) -> Response:
    back = safe_next(_field(form, "next", 500) or None)
    target = back if back != "/" else f"{PAGE}?done={what}"
    return RedirectResponse(target, status_code=303)


def _apply(request: Request, services: ServicesDep, templates: TemplatesDep,
           curation: CurationDep, user: Reviewer, form: PostedForm, action: str,
           detail: str, change) -> Response:  # type: ignore[no-untyped-def]
    try:
        teach(services, curation, user, action, detail, change)
    except (BadInputError, NotFoundError) as exc:
        return _page(request, services, templates, curation, str(exc), 422,
                     {k: _field(form, k) for k in ("phrase", "query", "note")})
    return _done(form, action)


@pages.post(f"{PAGE}/aliases")
def add_alias(request: Request, services: ServicesDep, templates: TemplatesDep,
              curation: CurationDep, user: Reviewer, form: PostedForm) -> Response:
    phrase = _field(form, "phrase", 80)
    field_name, _, term = _field(form, "term").partition(":")
    return _apply(request, services, templates, curation, user, form, "alias",
                  f"taught '{phrase}' for {field_name}:{term}",
                  lambda e: e.add_alias(phrase, field_name, term, by=user.email))


@pages.post(f"{PAGE}/aliases/remove")
def remove_alias(request: Request, services: ServicesDep, templates: TemplatesDep,
                 curation: CurationDep, user: Reviewer, form: PostedForm) -> Response:
    phrase, field_name = _field(form, "phrase", 80), _field(form, "field")
    return _apply(request, services, templates, curation, user, form, "alias-removed",
                  f"removed '{phrase}' ({field_name})",
                  lambda e: e.remove_alias(phrase, field_name))


@pages.post(f"{PAGE}/best-bets")
def add_best_bet(request: Request, services: ServicesDep, templates: TemplatesDep,
                 curation: CurationDep, user: Reviewer, form: PostedForm) -> Response:
    query, kind, slug = _field(form, "query", 80), _field(form, "kind"), _field(form, "slug")
    note = _field(form, "note", 300)
    if kind not in BET_KINDS:
        kind = "practice"
    return _apply(request, services, templates, curation, user, form, "best-bet",
                  f"pinned {kind} {slug} for '{query}'",
                  lambda e: e.add_best_bet(query, kind, slug, note, by=user.email))


@pages.post(f"{PAGE}/best-bets/remove")
def remove_best_bet(request: Request, services: ServicesDep, templates: TemplatesDep,
                    curation: CurationDep, user: Reviewer, form: PostedForm) -> Response:
    query, kind, slug = _field(form, "query", 80), _field(form, "kind"), _field(form, "slug")
    return _apply(request, services, templates, curation, user, form, "best-bet-removed",
                  f"unpinned {kind} {slug} for '{query}'",
                  lambda e: e.remove_best_bet(query, kind, slug))


@api.get("/search/tuning", response_model=SearchTuningOut)
def api_tuning(services: ServicesDep, curation: CurationDep, user: Reviewer) -> SearchTuningOut:
    """What curators taught the search: phrases for taxonomy terms and best bets."""
    tuning = tuning_editor(services, curation).load()
    return SearchTuningOut(
        aliases=[TaughtAliasOut(**vars(a)) for a in tuning.aliases],
        best_bets=[BestBetOut(**vars(b)) for b in tuning.best_bets])


router = APIRouter()
router.include_router(pages)
router.include_router(api)
