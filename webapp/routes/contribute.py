"""Contributing: the write-up form, uploads, one's own submissions and proposed edits, and their
JSON twins under /api (submissions, edits, preview) for a signed-in session."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from kb.content.authoring import slug_from_title
from kb.content.fields import is_date_problem
from kb.content.markdown import render_html
from kb.errors import BadInputError, NotFoundError, Problem
from kb.state.accounts import User
from kb.workflows.contribution import (
    Fields,
    build_text,
    check_text,
    fields_from_text,
    normalise_upload,
)
from kb.workflows.submissions import Submission
from services.brokering import WriteupSource, writeup_fields, writeup_source
from services.contribution import preview_of, workflow
from services.runtime import Services
from webapp.deps import Contributor, PostedForm, ServicesDep, TemplatesDep
from webapp.errors import error_response
from webapp.forms import blank_fields, fields_from_form, form_context, honeypot_filled
from webapp.plain_words import plain_file_problem
from webapp.submission_schemas import (
    Checked,
    PreviewIn,
    PreviewOut,
    ProposalIn,
    SubmissionOut,
    checked_of,
    problem_out,
    submission_out,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["contribution"])
ACTIONS = ("preview", "save", "submit")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")


def _own(services: Services, user: User, submission_id: int) -> Submission:
    sub = workflow(services).get(user, submission_id)
    if sub.user_id != user.id:
        raise NotFoundError(f"there is no submission {submission_id} for you")
    return sub


def _render_form(request: Request, templates: TemplatesDep, services: Services,
                 fields: Fields, problems: list[Problem], status: int = 200,
                 **context: Any) -> Response:
    return templates.TemplateResponse(request, "contribute.html", form_context(
        services, fields, problems, **context), status_code=status)


def handle_post(request: Request, services: Services, templates: TemplatesDep, user: User,
                form: FormData, fields: Fields, *, kind: str, action_url: str, heading: str,
                submission: Submission | None = None, base_hash: str = "",
                upload_problems: list[str] | None = None,
                source: WriteupSource | None = None) -> Response:
    """Preview, save or submit a proposal; a failed first submit is shown again as typed.
    `source` is the reviewed pairing a new write-up comes out of (kept on the submission)."""
    if honeypot_filled(form):
        return error_response(request, 400, "The form could not be accepted.")
    action = str(form.get("action", ""))
    if action not in ACTIONS:
        raise BadInputError(f"action must be one of {', '.join(ACTIONS)}")
    if submission is not None and submission.kind == "edit":
        fields.slug = submission.slug
    # An empty address field stays empty in the form (it follows the title until set).
    slug = fields.slug or slug_from_title(fields.title) or "untitled"
    text = build_text(fields)
    flow = workflow(services)
    common: dict[str, Any] = dict(
        kind=kind, action=action_url, heading=heading, base_hash=base_hash,
        idempotency_key=str(form.get("idempotency_key", "")), upload_problems=upload_problems,
        submission=submission, source=source)
    if action == "preview":
        problems = flow.problems(user, kind, slug, text, submission.id if submission else None)
        return _render_form(request, templates, services, fields, problems,
                            preview=preview_of(services, slug, text, fields.body), **common)
    if action == "submit" and submission is None:
        # A failed first submit stores nothing (no stray "untitled" drafts): the form comes
        # back with everything as typed; "Save as draft" keeps unfinished work on purpose.
        problems = flow.problems(user, kind, slug, text, None,
                                 str(form.get("idempotency_key", "")))
        if any(p.level == "error" for p in problems):
            return _render_form(request, templates, services, fields, problems, status=422,
                                message="Nothing has been saved yet. Fix the problems below "
                                        "and submit again, or save it as a draft.", **common)
    saved, problems = flow.save(
        user, kind=kind, slug=slug, text=text, submit=action == "submit",
        base_hash=base_hash, note=fields.note,
        submission_id=submission.id if submission else None,
        idempotency_key=str(form.get("idempotency_key", ""))[:100],
        pairing_id=source.pairing_id if source else None)
    if action == "submit" and saved.status != "pending":
        common.update(action=f"/my/submissions/{saved.id}", submission=saved)
        return _render_form(request, templates, services, fields, problems, status=422,
                            message="Saved as a draft. Fix the problems below, then submit "
                                    "for review.", **common)
    done = "submitted" if saved.status == "pending" else "saved"
    return RedirectResponse(f"/my/submissions/{saved.id}?done={done}", status_code=303)


# -- new write-ups ---------------------------------------------------------------------

@pages.get("/contribute", response_class=HTMLResponse)
def contribute_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                    user: Contributor, pairing: int | None = None) -> Response:
    """The blank form, or (`?pairing=N`) one pre-filled from a reviewed pairing's outcome."""
    fields = writeup_fields(services, user, pairing) if pairing else \
        blank_fields(services, user)
    return _render_form(request, templates, services, fields, [],
                        kind="new", action="/contribute", heading="Contribute a write-up",
                        source=writeup_source(services, user, pairing) if pairing else None)


@pages.post("/contribute", response_class=HTMLResponse)
def contribute_post(request: Request, services: ServicesDep, templates: TemplatesDep,
                    user: Contributor, form: PostedForm) -> Response:
    pairing = str(form.get("pairing", ""))[:20]
    return handle_post(request, services, templates, user, form, fields_from_form(form),
                       kind="new", action_url="/contribute", heading="Contribute a write-up",
                       source=writeup_source(services, user, pairing) if pairing else None)


@pages.post("/contribute/upload", response_class=HTMLResponse)
def upload_post(request: Request, services: ServicesDep, templates: TemplatesDep,
                user: Contributor, form: PostedForm) -> Response:
    """A ready .md file: validated like `kb validate`, then shown in the form to check."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise BadInputError("file: choose a Markdown (.md) file to upload")
    raw = upload.file.read(services.settings.max_file_bytes + 1)
    text, decode_problems = normalise_upload(raw, services.settings.max_file_bytes)
    name = (upload.filename or "").rsplit("/", 1)[-1].removesuffix(".md")
    fields = fields_from_text(text, services.taxonomy, name) if text is not None else None
    bad_dates = date_problems(services, name, text) if fields is not None and text else []
    if text is None or fields is None or bad_dates:
        problems = bad_dates or decode_problems or check_text(
            name, text or "", services.taxonomy, services.directory,
            services.settings.max_file_bytes).problems
        return _render_form(request, templates, services, blank_fields(services, user), [],
                            status=422, kind="new", action="/contribute",
                            heading="Contribute a write-up",
                            upload_problems=[f"{upload.filename}: "
                                             f"{plain_file_problem(p.message)}"
                                             + (f" (line {p.line})" if p.line else "")
                                             for p in problems])
    if str(form.get("action", "")) == "check":
        flow = workflow(services)
        slug = fields.slug or slug_from_title(fields.title)
        problems = flow.problems(user, "new", slug, build_text(fields))
        return _render_form(request, templates, services, fields, problems, kind="new",
                            action="/contribute", heading="Contribute a write-up",
                            message=f"Loaded {upload.filename}. Check the fields, then save "
                                    "or submit.")
    return handle_post(request, services, templates, user, form, fields, kind="new",
                       action_url="/contribute", heading="Contribute a write-up")


# -- one's own submissions ---------------------------------------------------------------

@pages.get("/my/submissions", response_class=HTMLResponse)
def my_submissions(request: Request, services: ServicesDep, templates: TemplatesDep,
                   user: Contributor) -> Response:
    return templates.TemplateResponse(request, "my_submissions.html", {
        "submissions": workflow(services).mine(user)})


@pages.get("/my/submissions/{submission_id:int}", response_class=HTMLResponse)
def my_submission(submission_id: int, request: Request, services: ServicesDep,
                  templates: TemplatesDep, user: Contributor, done: str = "") -> Response:
    sub = _own(services, user, submission_id)
    fields = fields_from_text(sub.text, services.taxonomy, sub.slug) or Fields(slug=sub.slug)
    message = {"saved": "Saved as a draft.",
               "submitted": "Submitted for review. A moderator will look at it soon."
               }.get(done, "")
    if not sub.editable:
        return templates.TemplateResponse(request, "submission.html", {
            "sub": sub, "message": message,
            "preview": preview_of(services, sub.slug, sub.text, fields.body)})
    problems = workflow(services).problems(user, sub.kind, sub.slug, sub.text, sub.id)
    return _render_form(request, templates, services, fields, problems, kind=sub.kind,
                        action=f"/my/submissions/{sub.id}", heading=_heading(sub),
                        message=message, submission=sub)


@pages.post("/my/submissions/{submission_id:int}", response_class=HTMLResponse)
def my_submission_post(submission_id: int, request: Request, services: ServicesDep,
                       templates: TemplatesDep, user: Contributor, form: PostedForm
                       ) -> Response:
    sub = _own(services, user, submission_id)
    return handle_post(request, services, templates, user, form, fields_from_form(form),
                       kind=sub.kind, action_url=f"/my/submissions/{sub.id}",
                       heading=_heading(sub), submission=sub, base_hash=sub.base_hash)


@pages.post("/my/submissions/{submission_id:int}/withdraw")
def my_submission_withdraw(submission_id: int, services: ServicesDep,
                           user: Contributor) -> Response:
    workflow(services).withdraw(user, submission_id)
    return RedirectResponse(f"/my/submissions/{submission_id}?done=saved", status_code=303)


def _heading(sub: Submission) -> str:
    return f"Edit proposal for {sub.slug}" if sub.kind == "edit" else "Your write-up"


# -- proposing edits to published write-ups -----------------------------------------------

@pages.get("/practice/{slug}/edit", response_class=HTMLResponse)
def edit_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
              user: Contributor) -> Response:
    text, base_hash = workflow(services).base_for_edit(user, slug)
    fields = fields_from_text(text, services.taxonomy, slug) or Fields(slug=slug)
    return _render_form(request, templates, services, fields, [], kind="edit",
                        action=f"/practice/{slug}/edit", heading=f"Propose an edit: "
                        f"{fields.title}", base_hash=base_hash)


@pages.post("/practice/{slug}/edit", response_class=HTMLResponse)
def edit_post(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
              user: Contributor, form: PostedForm) -> Response:
    _, current_hash = workflow(services).base_for_edit(user, slug)
    base_hash = str(form.get("base_hash", ""))
    fields = fields_from_form(form)
    fields.slug = slug
    return handle_post(request, services, templates, user, form, fields, kind="edit",
                       action_url=f"/practice/{slug}/edit",
                       heading=f"Propose an edit: {fields.title}",
                       base_hash=base_hash if HASH_RE.match(base_hash) else current_hash)


# -- the JSON twins -----------------------------------------------------------------------

def _text(services: Services, markdown: str) -> str:
    text, problems = normalise_upload(markdown.encode("utf-8", "replace"),
                                      services.settings.max_file_bytes)
    if text is None:
        raise BadInputError("markdown: " + "; ".join(p.message for p in problems))
    return text


def date_problems(services: Services, name: str, text: str) -> list[Problem]:
    """Dates that are no dates (2024-02-30): such a file is refused (422), not kept."""
    result = check_text(name or "upload", text, services.taxonomy, services.directory,
                        services.settings.max_file_bytes)
    return [p for p in result.problems if p.level == "error" and is_date_problem(p.message)]


def _refuse_bad_dates(services: Services, slug: str, text: str) -> None:
    problems = date_problems(services, slug, text)
    if problems:
        raise BadInputError("markdown: " + "; ".join(
            f"line {p.line} [{p.field}] {p.message}" if p.line else p.message
            for p in problems))


def _slug(services: Services, text: str, slug: str | None) -> str:
    if slug:
        return slug
    fields = fields_from_text(text, services.taxonomy)
    return slug_from_title(fields.title) if fields and fields.title else "untitled"


@api.get("/submissions", response_model=list[SubmissionOut])
def api_my_submissions(services: ServicesDep, user: Contributor) -> list[SubmissionOut]:
    """Your own drafts and submissions, most recently changed first."""
    return [submission_out(s) for s in workflow(services).mine(user)]


@api.post("/submissions", response_model=Checked, status_code=201)
def api_create(body: ProposalIn, services: ServicesDep, user: Contributor) -> Checked:
    """Save a new write-up as a draft (or submit it); problems are listed, work is kept."""
    source = writeup_source(services, user, body.pairing) if body.pairing else None
    text = _text(services, body.markdown)
    _refuse_bad_dates(services, body.slug or "", text)
    sub, problems = workflow(services).save(
        user, kind="new", slug=_slug(services, text, body.slug), text=text, submit=body.submit,
        note=body.note, idempotency_key=body.idempotency_key,
        pairing_id=source.pairing_id if source else None)
    return checked_of(sub, problems)


@api.get("/submissions/{submission_id:int}", response_model=Checked)
def api_submission(submission_id: int, services: ServicesDep, user: Contributor) -> Checked:
    """One submission (yours, or any for a moderator) with its current problems."""
    flow = workflow(services)
    sub = flow.get(user, submission_id)
    return checked_of(sub, flow.check(sub.slug, sub.text).problems)


@api.put("/submissions/{submission_id:int}", response_model=Checked)
def api_update(submission_id: int, body: ProposalIn, services: ServicesDep,
               user: Contributor) -> Checked:
    """Change your draft (or a submission sent back for changes), and optionally submit."""
    flow = workflow(services)
    own = flow.get(user, submission_id)
    if own.user_id != user.id:
        raise NotFoundError(f"there is no submission {submission_id} for you")
    text = _text(services, body.markdown)
    _refuse_bad_dates(services, body.slug or own.slug, text)
    sub, problems = flow.save(user, kind=own.kind, slug=body.slug or own.slug, text=text,
                              submit=body.submit, note=body.note, submission_id=own.id,
                              base_hash=own.base_hash)
    return checked_of(sub, problems)


@api.post("/submissions/{submission_id:int}/withdraw", response_model=SubmissionOut)
def api_withdraw(submission_id: int, services: ServicesDep, user: Contributor
                 ) -> SubmissionOut:
    """Take your submission back from the review queue to change it."""
    return submission_out(workflow(services).withdraw(user, submission_id))


@api.post("/practices/{slug}/edits", response_model=Checked, status_code=201)
def api_propose_edit(slug: str, body: ProposalIn, services: ServicesDep,
                     user: Contributor) -> Checked:
    """Propose a change to a published write-up from your family of schools."""
    flow = workflow(services)
    _, base_hash = flow.base_for_edit(user, slug)
    text = _text(services, body.markdown)
    _refuse_bad_dates(services, slug, text)
    sub, problems = flow.save(user, kind="edit", slug=slug, text=text,
                              submit=body.submit, note=body.note, base_hash=base_hash,
                              idempotency_key=body.idempotency_key)
    return checked_of(sub, problems)


@api.post("/preview", response_model=PreviewOut)
def api_preview(body: PreviewIn, services: ServicesDep, user: Contributor) -> PreviewOut:
    """Validate a write-up and render its body exactly as the published page would."""
    text = _text(services, body.markdown)
    problems = workflow(services).problems(user, "new", body.slug, text)
    fields = fields_from_text(text, services.taxonomy)
    html, _ = render_html(fields.body if fields else text)
    return PreviewOut(problems=[problem_out(p) for p in problems], html=html)


router = APIRouter()
router.include_router(pages)
router.include_router(api)
