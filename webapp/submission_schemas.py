"""The shapes of the contribution and moderation API: proposals in, submissions, problems,
reviews and revisions out (one pydantic model per thing, as in webapp/schemas.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kb.content.markdown import render_html
from kb.errors import Problem
from kb.workflows.revisions import Revision
from kb.workflows.submissions import Submission
from services.moderation import Review
from webapp.forms import MAX_COMMENT
from webapp.schemas import BodyIn

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
    pairing: int | None = Field(default=None, description="The brokered pairing this new "
                                "write-up came out of, if it was written up from one.")


class Checked(BaseModel):
    submission: SubmissionOut
    problems: list[ProblemOut]


class ReviewOut(Checked):
    diff: list[tuple[str, str]]
    preview_html: str


class ProposalIn(BodyIn):
    markdown: str = Field(max_length=MAX_MARKDOWN, description="The whole file: front matter "
                          "and body, as `kb validate` expects it.")
    slug: str | None = Field(default=None, max_length=200,
                             description="File name without .md (default: from the title).")
    submit: bool = Field(default=False, description="Submit for review when valid.")
    note: str = Field(default="", max_length=500, description="For edits: what changed.")
    idempotency_key: str = Field(default="", max_length=100,
                                 description="Retrying with the same key updates one row.")
    pairing: int | None = Field(default=None, ge=1, le=2**62, description="For a new "
                                "write-up: the reviewed pairing it comes out of (you must be "
                                "staff of one of its two schools); counted in the partnership "
                                "overview once published.")


class PreviewIn(BodyIn):
    markdown: str = Field(max_length=MAX_MARKDOWN)
    slug: str = Field(default="preview", max_length=200)


class PreviewOut(BaseModel):
    problems: list[ProblemOut]
    html: str


class Decision(BodyIn):
    comment: str = Field(default="", max_length=MAX_COMMENT)


class RevisionOut(BaseModel):
    number: int
    author: str
    approved_by: str
    summary: str
    created_at: str
    content_hash: str


def problem_out(p: Problem) -> ProblemOut:
    return ProblemOut(path=p.path, line=p.line, field=p.field, message=p.message,
                      level=p.level)


def submission_out(sub: Submission) -> SubmissionOut:
    return SubmissionOut(
        id=sub.id, kind=sub.kind, slug=sub.slug, status=sub.status,
        status_label=sub.status_label, author=sub.author_name, note=sub.note,
        comment=sub.comment, reviewer=sub.reviewer, created_at=sub.created_at,
        updated_at=sub.updated_at, submitted_at=sub.submitted_at, reviewed_at=sub.reviewed_at,
        markdown=sub.text, url=f"/my/submissions/{sub.id}", pairing=sub.pairing_id)


def checked_of(sub: Submission, problems: list[Problem]) -> Checked:
    return Checked(submission=submission_out(sub), problems=[problem_out(p) for p in problems])


def revision_out(r: Revision) -> RevisionOut:
    return RevisionOut(number=r.number, author=r.author, approved_by=r.approved_by,
                       summary=r.summary, created_at=r.created_at,
                       content_hash=r.content_hash)


def review_out(review: Review) -> ReviewOut:
    """A pending submission with its problems, its diff and its body as the page would show it."""
    return ReviewOut(submission=submission_out(review.sub),
                     problems=[problem_out(p) for p in review.problems], diff=review.diff,
                     preview_html=render_html(review.preview.body)[0])
