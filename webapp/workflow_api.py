"""The JSON twins of the contribution and moderation pages, for a signed-in session."""

from __future__ import annotations

from fastapi import APIRouter

from kb.content.authoring import slug_from_title
from kb.workflows.contribution import fields_from_text, normalise_upload
from kb.errors import BadInputError, NotFoundError
from kb.content.markdown import render_html
from kb.workflows.revisions import history
from services.contribution import workflow
from services.moderation import approve, restore_revision, review_of
from services.runtime import Services
from webapp.deps import Contributor, Moderator, ServicesDep
from webapp.submission_schemas import (Checked, Decision, PreviewIn, PreviewOut, ProposalIn,
                                       ReviewOut, RevisionOut, SubmissionOut, checked_of,
                                       problem_out, revision_out, submission_out)

router = APIRouter(prefix="/api", tags=["contribution"])


def _text(services: Services, markdown: str) -> str:
    text, problems = normalise_upload(markdown.encode("utf-8", "replace"),
                                      services.settings.max_file_bytes)
    if text is None:
        raise BadInputError("markdown: " + "; ".join(p.message for p in problems))
    return text


def _slug(services: Services, text: str, slug: str | None) -> str:
    if slug:
        return slug
    fields = fields_from_text(text, services.taxonomy)
    return slug_from_title(fields.title) if fields and fields.title else "untitled"


@router.get("/submissions", response_model=list[SubmissionOut])
def api_my_submissions(services: ServicesDep, user: Contributor) -> list[SubmissionOut]:
    """Your own drafts and submissions, most recently changed first."""
    return [submission_out(s) for s in workflow(services).mine(user)]


@router.post("/submissions", response_model=Checked, status_code=201)
def api_create(body: ProposalIn, services: ServicesDep, user: Contributor) -> Checked:
    """Save a new write-up as a draft (or submit it); problems are listed, work is kept."""
    text = _text(services, body.markdown)
    sub, problems = workflow(services).save(
        user, kind="new", slug=_slug(services, text, body.slug), text=text, submit=body.submit,
        note=body.note, idempotency_key=body.idempotency_key)
    return checked_of(sub, problems)


@router.get("/submissions/{submission_id}", response_model=Checked)
def api_submission(submission_id: int, services: ServicesDep, user: Contributor) -> Checked:
    """One submission (yours, or any for a moderator) with its current problems."""
    flow = workflow(services)
    sub = flow.get(user, submission_id)
    return checked_of(sub, flow.check(sub.slug, sub.text).problems)


@router.put("/submissions/{submission_id}", response_model=Checked)
def api_update(submission_id: int, body: ProposalIn, services: ServicesDep,
               user: Contributor) -> Checked:
    """Change your draft (or a submission sent back for changes), and optionally submit."""
    flow = workflow(services)
    own = flow.get(user, submission_id)
    if own.user_id != user.id:
        raise NotFoundError(f"there is no submission {submission_id} for you")
    text = _text(services, body.markdown)
    sub, problems = flow.save(user, kind=own.kind, slug=body.slug or own.slug, text=text,
                              submit=body.submit, note=body.note, submission_id=own.id,
                              base_hash=own.base_hash)
    return checked_of(sub, problems)


@router.post("/submissions/{submission_id}/withdraw", response_model=SubmissionOut)
def api_withdraw(submission_id: int, services: ServicesDep, user: Contributor
                 ) -> SubmissionOut:
    """Take your submission back from the review queue to change it."""
    return submission_out(workflow(services).withdraw(user, submission_id))


@router.post("/practices/{slug}/edits", response_model=Checked, status_code=201)
def api_propose_edit(slug: str, body: ProposalIn, services: ServicesDep,
                     user: Contributor) -> Checked:
    """Propose a change to a published write-up from your family of schools."""
    flow = workflow(services)
    _, base_hash = flow.base_for_edit(user, slug)
    sub, problems = flow.save(user, kind="edit", slug=slug, text=_text(services, body.markdown),
                              submit=body.submit, note=body.note, base_hash=base_hash,
                              idempotency_key=body.idempotency_key)
    return checked_of(sub, problems)


@router.post("/preview", response_model=PreviewOut)
def api_preview(body: PreviewIn, services: ServicesDep, user: Contributor) -> PreviewOut:
    """Validate a write-up and render its body exactly as the published page would."""
    text = _text(services, body.markdown)
    problems = workflow(services).problems(user, "new", body.slug, text)
    fields = fields_from_text(text, services.taxonomy)
    html, _ = render_html(fields.body if fields else text)
    return PreviewOut(problems=[problem_out(p) for p in problems], html=html)


@router.get("/moderation", response_model=list[ReviewOut])
def api_queue(services: ServicesDep, user: Moderator) -> list[ReviewOut]:
    """Pending submissions, newest first, with problems and (for edits) a line diff."""
    out = []
    for sub in workflow(services).queue():
        review = review_of(services, sub)
        out.append(ReviewOut(submission=submission_out(sub), problems=[problem_out(p) for p in
                                                             review.problems],
                             diff=review.diff, preview_html=render_html(review.preview.body)[0]))
    return out


@router.post("/moderation/{submission_id}/approve", response_model=SubmissionOut)
def api_approve(submission_id: int, body: Decision, services: ServicesDep,
                user: Moderator) -> SubmissionOut:
    """Publish: write the file atomically, keep a revision, update the search index."""
    sub, _ = approve(services, user, submission_id, body.comment)
    return submission_out(sub)


@router.post("/moderation/{submission_id}/request-changes", response_model=SubmissionOut)
def api_request_changes(submission_id: int, body: Decision, services: ServicesDep,
                        user: Moderator) -> SubmissionOut:
    """Send a submission back to its author with a comment."""
    flow = workflow(services)
    flow.request_changes(user, submission_id, body.comment)
    return submission_out(flow.get(user, submission_id))


@router.post("/moderation/{submission_id}/reject", response_model=SubmissionOut)
def api_reject(submission_id: int, body: Decision, services: ServicesDep,
               user: Moderator) -> SubmissionOut:
    """Reject a submission with a reason."""
    flow = workflow(services)
    flow.reject(user, submission_id, body.comment)
    return submission_out(flow.get(user, submission_id))


@router.get("/practices/{slug}/revisions", response_model=list[RevisionOut])
def api_revisions(slug: str, services: ServicesDep) -> list[RevisionOut]:
    """The revision history of a write-up (who, when, what changed), newest first."""
    return [revision_out(r) for r in history(services.state, slug)]


@router.post("/practices/{slug}/revisions/{number}/restore", response_model=RevisionOut)
def api_restore(slug: str, number: int, services: ServicesDep,
                user: Moderator) -> RevisionOut:
    """Publish an earlier revision again (recorded as a new revision)."""
    return revision_out(restorerevision_out(services, user, slug, number))
