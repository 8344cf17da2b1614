"""Transfer pages: "we tried this too" reports, their moderation queue, and promotion."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from kb.mail.notices import Notices
from kb.workflows import transfer
from services.moderation import promote
from webapp.deps import Moderator, PostedForm, ServicesDep, SignedIn, TemplatesDep

router = APIRouter(include_in_schema=False)
DONE = {"approved": "Approved: it now shows on the write-up.", "rejected": "Rejected."}


def _field(form: PostedForm, name: str) -> str:
    return str(form.get(name, ""))[:transfer.MAX_TEXT + 10]


@router.post("/practice/{slug}/transfer")
def report_post(slug: str, services: ServicesDep, user: SignedIn,
                form: PostedForm) -> Response:
    doc = services.engine.document(slug)
    transfer.report(services.state, user, slug=slug, origin_school=doc.tags["school"][0],
                    context=_field(form, "context"), adapted=_field(form, "adapted"),
                    measured=_field(form, "measured"), result=_field(form, "result"))
    return RedirectResponse(f"/practice/{slug}?reported=1#transfer", status_code=303)


@router.get("/moderation/transfers", response_class=HTMLResponse)
def queue_page(request: Request, services: ServicesDep, templates: TemplatesDep,
               user: Moderator, done: str = "") -> Response:
    names = {s.id: s.name for s in services.directory.schools.values()}
    return templates.TemplateResponse(request, "transfer_queue.html", {
        "reports": transfer.queue(services.state), "names": names,
        "message": DONE.get(done, "")})


@router.post("/moderation/transfers/{report_id:int}/approve")
def approve_post(report_id: int, services: ServicesDep, user: Moderator) -> Response:
    transfer.approve(services.state, user, report_id, Notices.from_settings(services.settings))
    return RedirectResponse("/moderation/transfers?done=approved", status_code=303)


@router.post("/moderation/transfers/{report_id:int}/reject")
def reject_post(report_id: int, services: ServicesDep, user: Moderator,
                form: PostedForm) -> Response:
    transfer.reject(services.state, user, report_id, _field(form, "reason"),
                    Notices.from_settings(services.settings))
    return RedirectResponse("/moderation/transfers?done=rejected", status_code=303)


@router.post("/practice/{slug}/promote")
def promote_post(slug: str, services: ServicesDep, user: Moderator) -> Response:
    promote(services, user, slug)
    return RedirectResponse(f"/practice/{slug}?promoted=1#transfer", status_code=303)
