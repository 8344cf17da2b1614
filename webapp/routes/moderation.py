"""Moderating: the review queue, approve / request changes / reject, revisions and restore, as
pages and as their JSON twins under /api."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from kb.content.documents import SLUG_RE
from kb.workflows.contribution import fields_from_text
from kb.workflows.revisions import get_revision, history
from services.contribution import preview_of, workflow
from services.moderation import approve, restore_revision, review_of
from webapp.deps import Moderator, PostedForm, ServicesDep, TemplatesDep
from webapp.forms import MAX_COMMENT
from webapp.submission_schemas import (
    Decision,
    ReviewOut,
    RevisionOut,
    SubmissionOut,
    review_out,
    revision_out,
    submission_out,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["contribution"])


NOTICES = {"index": "Published, but the search index could not be updated yet; it will be "
                    "at the next `kb index` or restart."}
DONE = {"approved": "Published.", "changes_requested": "Sent back with your comment.",
        "rejected": "Rejected."}


def _comment(form: PostedForm) -> str:
    return str(form.get("comment", ""))[:MAX_COMMENT]


# -- pages -------------------------------------------------------------------------------

@pages.get("/moderation", response_class=HTMLResponse)
def queue_page(request: Request, services: ServicesDep, templates: TemplatesDep,
               user: Moderator, done: str = "", notice: str = "",
               published: str = "") -> Response:
    reviews = [review_of(services, sub) for sub in workflow(services).queue()]
    return templates.TemplateResponse(request, "moderation.html", {
        "reviews": reviews, "message": DONE.get(done, ""), "notice": NOTICES.get(notice, ""),
        "published": published if SLUG_RE.fullmatch(published) else ""})


@pages.get("/moderation/{submission_id:int}", response_class=HTMLResponse)
def review_page(submission_id: int, request: Request, services: ServicesDep,
                templates: TemplatesDep, user: Moderator) -> Response:
    sub = workflow(services).get(user, submission_id)
    return templates.TemplateResponse(request, "review.html", {
        "review": review_of(services, sub), "own": sub.user_id == user.id})


@pages.post("/moderation/{submission_id:int}/approve")
def approve_post(submission_id: int, services: ServicesDep, user: Moderator,
                 form: PostedForm) -> Response:
    sub, indexed = approve(services, user, submission_id, _comment(form))
    target = f"/moderation?done=approved&published={sub.slug}"
    return RedirectResponse(target + ("" if indexed else "&notice=index"), status_code=303)


@pages.post("/moderation/{submission_id:int}/request-changes")
def request_changes_post(submission_id: int, services: ServicesDep, user: Moderator,
                         form: PostedForm) -> Response:
    workflow(services).request_changes(user, submission_id, _comment(form))
    return RedirectResponse("/moderation?done=changes_requested", status_code=303)


@pages.post("/moderation/{submission_id:int}/reject")
def reject_post(submission_id: int, services: ServicesDep, user: Moderator,
                form: PostedForm) -> Response:
    workflow(services).reject(user, submission_id, _comment(form))
    return RedirectResponse("/moderation?done=rejected", status_code=303)


@pages.get("/practice/{slug}/revisions/{number:int}", response_class=HTMLResponse)
def revision_page(slug: str, number: int, request: Request, services: ServicesDep,
                  templates: TemplatesDep, user: Moderator) -> Response:
    revision = get_revision(services.state, slug, number)
    fields = fields_from_text(revision.text, services.taxonomy, slug)
    return templates.TemplateResponse(request, "revision.html", {
        "revision": revision,
        "preview": preview_of(services, slug, revision.text,
                              fields.body if fields else revision.text)})


@pages.post("/practice/{slug}/revisions/{number:int}/restore")
def restore_post(slug: str, number: int, services: ServicesDep, user: Moderator) -> Response:
    restore_revision(services, user, slug, number)
    return RedirectResponse(f"/practice/{slug}?restored={number}#history", status_code=303)


# -- the JSON twins -----------------------------------------------------------------------

@api.get("/moderation", response_model=list[ReviewOut])
def api_queue(services: ServicesDep, user: Moderator) -> list[ReviewOut]:
    """Pending submissions, newest first, with problems and (for edits) a line diff."""
    return [review_out(review_of(services, sub)) for sub in workflow(services).queue()]


@api.post("/moderation/{submission_id:int}/approve", response_model=SubmissionOut)
def api_approve(submission_id: int, body: Decision, services: ServicesDep,
                user: Moderator) -> SubmissionOut:
    """Publish: write the file atomically, keep a revision, update the search index."""
    sub, _ = approve(services, user, submission_id, body.comment)
    return submission_out(sub)


@api.post("/moderation/{submission_id:int}/request-changes", response_model=SubmissionOut)
def api_request_changes(submission_id: int, body: Decision, services: ServicesDep,
                        user: Moderator) -> SubmissionOut:
    """Send a submission back to its author with a comment."""
    flow = workflow(services)
    flow.request_changes(user, submission_id, body.comment)
    return submission_out(flow.get(user, submission_id))


@api.post("/moderation/{submission_id:int}/reject", response_model=SubmissionOut)
def api_reject(submission_id: int, body: Decision, services: ServicesDep,
               user: Moderator) -> SubmissionOut:
    """Reject a submission with a reason."""
    flow = workflow(services)
    flow.reject(user, submission_id, body.comment)
    return submission_out(flow.get(user, submission_id))


@api.get("/practices/{slug}/revisions", response_model=list[RevisionOut])
def api_revisions(slug: str, services: ServicesDep) -> list[RevisionOut]:
    """The revision history of a write-up (who, when, what changed), newest first."""
    return [revision_out(r) for r in history(services.state, slug)]


@api.post("/practices/{slug}/revisions/{number:int}/restore", response_model=RevisionOut)
def api_restore(slug: str, number: int, services: ServicesDep,
                user: Moderator) -> RevisionOut:
    """Publish an earlier revision again (recorded as a new revision)."""
    return revision_out(restore_revision(services, user, slug, number))


router = APIRouter()
router.include_router(pages)
router.include_router(api)
