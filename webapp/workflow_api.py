"""The JSON twins of the contribution and moderation pages, for a signed-in session."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kb.content.authoring import slug_from_title
from kb.workflows.contribution import fields_from_text, normalise_upload
from kb.errors import BadInputError, NotFoundError, Problem
from kb.content.markdown import render_html
from kb.workflows.revisions import Revision, history
from kb.workflows.submissions import Submission
from services.contribution import workflow
from services.moderation import approve, restore_revision, review_of
from services.runtime import Services
from webapp.deps import Contributor, Moderator, ServicesDep
from webapp.forms import MAX_COMMENT

router = APIRouter(prefix="/api", tags=["contribution"])
MAX_MARKDOWN = 1_000_000


class ProblemOut(BaseModel):
    path: str
    line: int
    field: str
    message: str
    level: str


class SubmissionOut(BaseModel):
    id: int
    kind: str
    slug: str
    status: str
    status_label: str
    author: str
    note: str
    comment: str
    reviewer: str
    created_at: str
    updated_at: str
    submitted_at: str
    reviewed_at: str
    markdown: str
    url: str


class Checked(BaseModel):
    submission: SubmissionOut
    problems: list[ProblemOut]


class ReviewOut(Checked):
    diff: list[tuple[str, str]]
    preview_html: str


class ProposalIn(BaseModel):
    markdown: str = Field(max_length=MAX_MARKDOWN, description="The whole file: front matter "
                          "and body, as `kb validate` expects it.")
    slug: str | None = Field(default=None, max_length=200,
                             description="File name without .md (default: from the title).")
    submit: bool = Field(default=False, description="Submit for review when valid.")
    note: str = Field(default="", max_length=500, description="For edits: what changed.")
    idempotency_key: str = Field(default="", max_length=100,
                                 description="Retrying with the same key updates one row.")


class PreviewIn(BaseModel):
    markdown: str = Field(max_length=MAX_MARKDOWN)
    slug: str = Field(default="preview", max_length=200)


class PreviewOut(BaseModel):
    problems: list[ProblemOut]
    html: str


class Decision(BaseModel):
    comment: str = Field(default="", max_length=MAX_COMMENT)


class RevisionOut(BaseModel):
    number: int
    author: str
    approved_by: str
    summary: str
    created_at: str
    content_hash: str


def _problem(p: Problem) -> ProblemOut:
    return ProblemOut(path=p.path, line=p.line, field=p.field, message=p.message,
                      level=p.level)


def _sub(sub: Submission) -> SubmissionOut:
    return SubmissionOut(
        id=sub.id, kind=sub.kind, slug=sub.slug, status=sub.status,
        status_label=sub.status_label, author=sub.author_name, note=sub.note,
        comment=sub.comment, reviewer=sub.reviewer, created_at=sub.created_at,
        updated_at=sub.updated_at, submitted_at=sub.submitted_at, reviewed_at=sub.reviewed_at,
        markdown=sub.text, url=f"/my/submissions/{sub.id}")


def _revision(r: Revision) -> RevisionOut:
    return RevisionOut(number=r.number, author=r.author, approved_by=r.approved_by,
                       summary=r.summary, created_at=r.created_at,
                       content_hash=r.content_hash)


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
    return [_sub(s) for s in workflow(services).mine(user)]


@router.post("/submissions", response_model=Checked, status_code=201)
def api_create(body: ProposalIn, services: ServicesDep, user: Contributor) -> Checked:
    """Save a new write-up as a draft (or submit it); problems are listed, work is kept."""
    text = _text(services, body.markdown)
    sub, problems = workflow(services).save(
        user, kind="new", slug=_slug(services, text, body.slug), text=text, submit=body.submit,
        note=body.note, idempotency_key=body.idempotency_key)
    return Checked(submission=_sub(sub), problems=[_problem(p) for p in problems])


@router.get("/submissions/{submission_id}", response_model=Checked)
def api_submission(submission_id: int, services: ServicesDep, user: Contributor) -> Checked:
    """One submission (yours, or any for a moderator) with its current problems."""
    flow = workflow(services)
    sub = flow.get(user, submission_id)
    return Checked(submission=_sub(sub),
                   problems=[_problem(p) for p in flow.check(sub.slug, sub.text).problems])


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
    return Checked(submission=_sub(sub), problems=[_problem(p) for p in problems])


@router.post("/submissions/{submission_id}/withdraw", response_model=SubmissionOut)
def api_withdraw(submission_id: int, services: ServicesDep, user: Contributor
                 ) -> SubmissionOut:
    """Take your submission back from the review queue to change it."""
    return _sub(workflow(services).withdraw(user, submission_id))


@router.post("/practices/{slug}/edits", response_model=Checked, status_code=201)
def api_propose_edit(slug: str, body: ProposalIn, services: ServicesDep,
                     user: Contributor) -> Checked:
    """Propose a change to a published write-up from your family of schools."""
    flow = workflow(services)
    _, base_hash = flow.base_for_edit(user, slug)
    sub, problems = flow.save(user, kind="edit", slug=slug, text=_text(services, body.markdown),
                              submit=body.submit, note=body.note, base_hash=base_hash,
                              idempotency_key=body.idempotency_key)
    return Checked(submission=_sub(sub), problems=[_problem(p) for p in problems])


@router.post("/preview", response_model=PreviewOut)
def api_preview(body: PreviewIn, services: ServicesDep, user: Contributor) -> PreviewOut:
    """Validate a write-up and render its body exactly as the published page would."""
    text = _text(services, body.markdown)
    problems = workflow(services).problems(user, "new", body.slug, text)
    fields = fields_from_text(text, services.taxonomy)
    html, _ = render_html(fields.body if fields else text)
    return PreviewOut(problems=[_problem(p) for p in problems], html=html)


@router.get("/moderation", response_model=list[ReviewOut])
def api_queue(services: ServicesDep, user: Moderator) -> list[ReviewOut]:
    """Pending submissions, newest first, with problems and (for edits) a line diff."""
    out = []
    for sub in workflow(services).queue():
        review = review_of(services, sub)
        out.append(ReviewOut(submission=_sub(sub), problems=[_problem(p) for p in
                                                             review.problems],
                             diff=review.diff, preview_html=render_html(review.preview.body)[0]))
    return out


@router.post("/moderation/{submission_id}/approve", response_model=SubmissionOut)
def api_approve(submission_id: int, body: Decision, services: ServicesDep,
                user: Moderator) -> SubmissionOut:
    """Publish: write the file atomically, keep a revision, update the search index."""
    sub, _ = approve(services, user, submission_id, body.comment)
    return _sub(sub)


@router.post("/moderation/{submission_id}/request-changes", response_model=SubmissionOut)
def api_request_changes(submission_id: int, body: Decision, services: ServicesDep,
                        user: Moderator) -> SubmissionOut:
    """Send a submission back to its author with a comment."""
    flow = workflow(services)
    flow.request_changes(user, submission_id, body.comment)
    return _sub(flow.get(user, submission_id))


@router.post("/moderation/{submission_id}/reject", response_model=SubmissionOut)
def api_reject(submission_id: int, body: Decision, services: ServicesDep,
               user: Moderator) -> SubmissionOut:
    """Reject a submission with a reason."""
    flow = workflow(services)
    flow.reject(user, submission_id, body.comment)
    return _sub(flow.get(user, submission_id))


@router.get("/practices/{slug}/revisions", response_model=list[RevisionOut])
def api_revisions(slug: str, services: ServicesDep) -> list[RevisionOut]:
    """The revision history of a write-up (who, when, what changed), newest first."""
    return [_revision(r) for r in history(services.state, slug)]


@router.post("/practices/{slug}/revisions/{number}/restore", response_model=RevisionOut)
def api_restore(slug: str, number: int, services: ServicesDep,
                user: Moderator) -> RevisionOut:
    """Publish an earlier revision again (recorded as a new revision)."""
    return _revision(restore_revision(services, user, slug, number))
