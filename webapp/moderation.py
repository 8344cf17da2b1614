"""Moderating: the review queue, approve / request changes / reject, revisions and restore."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from kb.content.documents import SLUG_RE
from kb.workflows.contribution import fields_from_text
from kb.workflows.revisions import get_revision
from services.contribution import preview_of, workflow
from services.moderation import approve, restore_revision, review_of
from webapp.deps import Moderator, PostedForm, ServicesDep, TemplatesDep
from webapp.forms import MAX_COMMENT

router = APIRouter(include_in_schema=False)


NOTICES = {"index": "Published, but the search index could not be updated yet; it will be "
                    "at the next `kb index` or restart."}
DONE = {"approved": "Published.", "changes_requested": "Sent back with your comment.",
        "rejected": "Rejected."}


def _comment(form: PostedForm) -> str:
    return str(form.get("comment", ""))[:MAX_COMMENT]


# -- pages -------------------------------------------------------------------------------

@router.get("/moderation", response_class=HTMLResponse)
def queue_page(request: Request, services: ServicesDep, templates: TemplatesDep,
               user: Moderator, done: str = "", notice: str = "",
               published: str = "") -> Response:
    reviews = [review_of(services, sub) for sub in workflow(services).queue()]
    return templates.TemplateResponse(request, "moderation.html", {
        "reviews": reviews, "message": DONE.get(done, ""), "notice": NOTICES.get(notice, ""),
        "published": published if SLUG_RE.fullmatch(published) else ""})


@router.get("/moderation/{submission_id}", response_class=HTMLResponse)
def review_page(submission_id: int, request: Request, services: ServicesDep,
                templates: TemplatesDep, user: Moderator) -> Response:
    sub = workflow(services).get(user, submission_id)
    return templates.TemplateResponse(request, "review.html", {
        "review": review_of(services, sub), "own": sub.user_id == user.id})


@router.post("/moderation/{submission_id}/approve")
def approve_post(submission_id: int, services: ServicesDep, user: Moderator,
                 form: PostedForm) -> Response:
    sub, indexed = approve(services, user, submission_id, _comment(form))
    target = f"/moderation?done=approved&published={sub.slug}"
    return RedirectResponse(target + ("" if indexed else "&notice=index"), status_code=303)


@router.post("/moderation/{submission_id}/request-changes")
def request_changes_post(submission_id: int, services: ServicesDep, user: Moderator,
                         form: PostedForm) -> Response:
    workflow(services).request_changes(user, submission_id, _comment(form))
    return RedirectResponse("/moderation?done=changes_requested", status_code=303)


@router.post("/moderation/{submission_id}/reject")
def reject_post(submission_id: int, services: ServicesDep, user: Moderator,
                form: PostedForm) -> Response:
    workflow(services).reject(user, submission_id, _comment(form))
    return RedirectResponse("/moderation?done=rejected", status_code=303)


@router.get("/practice/{slug}/revisions/{number}", response_class=HTMLResponse)
def revision_page(slug: str, number: int, request: Request, services: ServicesDep,
                  templates: TemplatesDep, user: Moderator) -> Response:
    revision = get_revision(services.state, slug, number)
    fields = fields_from_text(revision.text, services.taxonomy, slug)
    return templates.TemplateResponse(request, "revision.html", {
        "revision": revision,
        "preview": preview_of(services, slug, revision.text,
                              fields.body if fields else revision.text)})


@router.post("/practice/{slug}/revisions/{number}/restore")
def restore_post(slug: str, number: int, services: ServicesDep, user: Moderator) -> Response:
    restore_revision(services, user, slug, number)
    return RedirectResponse(f"/practice/{slug}?restored={number}#history", status_code=303)
