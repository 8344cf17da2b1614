"""Support between schools: asking a write-up's school for help, and answering it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from kb.errors import NotFoundError
from kb.mail.notices import Notices
from kb.workflows import support
from services.runtime import Services
from webapp.deps import PostedForm, ServicesDep, SignedIn, TemplatesDep

router = APIRouter(include_in_schema=False)


def _field(form: PostedForm, name: str, limit: int = support.MAX_MESSAGE + 10) -> str:
    return str(form.get(name, ""))[:limit]


@router.post("/practice/{slug}/support")
def ask_post(slug: str, services: ServicesDep, user: SignedIn, form: PostedForm) -> Response:
    doc = services.engine.document(slug)
    made = support.ask(services.state, user, slug=slug, school=doc.tags["school"][0],
                       family=doc.tags["family"][0], kind=_field(form, "kind", 30),
                       message=_field(form, "message"),
                       notices=Notices.from_settings(services.settings))
    return RedirectResponse(f"/support/{made.id}?sent=1", status_code=303)


@router.get("/support", response_class=HTMLResponse)
def support_list(request: Request, services: ServicesDep, templates: TemplatesDep,
                 user: SignedIn) -> Response:
    sent, received = support.visible_to(services.state, user)
    return templates.TemplateResponse(request, "support.html", {
        "sent": sent, "received": received, "names": _names(services)})


@router.get("/support/{request_id:int}", response_class=HTMLResponse)
def support_page(request_id: int, request: Request, services: ServicesDep,
                 templates: TemplatesDep, user: SignedIn, sent: str = "") -> Response:
    req = support.get(services.state, user, request_id)
    return templates.TemplateResponse(request, "support_request.html", {
        "req": req, "answerable": support.is_school_side(user, req), "sent": bool(sent),
        "names": _names(services), "title": _title(services, req.slug)})


@router.post("/support/{request_id:int}/accept")
def accept_post(request_id: int, services: ServicesDep, user: SignedIn,
                form: PostedForm) -> Response:
    support.accept(services.state, user, request_id, _field(form, "reply"),
                   Notices.from_settings(services.settings))
    return RedirectResponse(f"/support/{request_id}", status_code=303)


@router.post("/support/{request_id:int}/decline")
def decline_post(request_id: int, services: ServicesDep, user: SignedIn,
                 form: PostedForm) -> Response:
    support.decline(services.state, user, request_id, _field(form, "reply"),
                    Notices.from_settings(services.settings))
    return RedirectResponse(f"/support/{request_id}", status_code=303)


@router.post("/support/{request_id:int}/complete")
def complete_post(request_id: int, services: ServicesDep, user: SignedIn,
                  form: PostedForm) -> Response:
    support.complete(services.state, user, request_id, _field(form, "happened_on", 20),
                     _field(form, "note"), Notices.from_settings(services.settings))
    return RedirectResponse(f"/support/{request_id}", status_code=303)


def _names(services: Services) -> dict[str, str]:
    return {s.id: s.name for s in services.directory.schools.values()}


def _title(services: Services, slug: str) -> str:
    try:
        return services.engine.document(slug).title
    except NotFoundError:  # a write-up withdrawn since the request was made
        return slug
