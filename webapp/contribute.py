"""Contributing: the write-up form, uploads, one's own submissions and proposed edits."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from kb.state.accounts import User
from kb.content.authoring import slug_from_title
from kb.workflows.contribution import Fields, build_text, check_text, fields_from_text, normalise_upload
from kb.errors import BadInputError, NotFoundError, Problem
from kb.workflows.submissions import Submission
from webapp.deps import Contributor, PostedForm, ServicesDep, TemplatesDep
from webapp.errors import error_response
from webapp.forms import blank_fields, fields_from_form, form_context, honeypot_filled
from services.contribution import preview_of, workflow
from services.runtime import Services

router = APIRouter(include_in_schema=False)
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
                upload_problems: list[str] | None = None) -> Response:
    """Preview, save or submit a proposal; invalid work is kept as a draft, never lost."""
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
        submission=submission)
    if action == "preview":
        problems = flow.problems(user, kind, slug, text, submission.id if submission else None)
        return _render_form(request, templates, services, fields, problems,
                            preview=preview_of(services, slug, text, fields.body), **common)
    saved, problems = flow.save(
        user, kind=kind, slug=slug, text=text, submit=action == "submit",
        base_hash=base_hash, note=fields.note,
        submission_id=submission.id if submission else None,
        idempotency_key=str(form.get("idempotency_key", ""))[:100])
    if action == "submit" and saved.status != "pending":
        common.update(action=f"/my/submissions/{saved.id}", submission=saved)
        return _render_form(request, templates, services, fields, problems, status=422,
                            message="Saved as a draft. Fix the problems below, then submit "
                                    "for review.", **common)
    done = "submitted" if saved.status == "pending" else "saved"
    return RedirectResponse(f"/my/submissions/{saved.id}?done={done}", status_code=303)


# -- new write-ups ---------------------------------------------------------------------

@router.get("/contribute", response_class=HTMLResponse)
def contribute_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                    user: Contributor) -> Response:
    return _render_form(request, templates, services, blank_fields(services, user), [],
                        kind="new", action="/contribute", heading="Contribute a write-up")


@router.post("/contribute", response_class=HTMLResponse)
def contribute_post(request: Request, services: ServicesDep, templates: TemplatesDep,
                    user: Contributor, form: PostedForm) -> Response:
    return handle_post(request, services, templates, user, form, fields_from_form(form),
                       kind="new", action_url="/contribute", heading="Contribute a write-up")


@router.post("/contribute/upload", response_class=HTMLResponse)
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
    if text is None or fields is None:
        problems = decode_problems or check_text(name, text or "", services.taxonomy,
                                                 services.directory,
                                                 services.settings.max_file_bytes).problems
        return _render_form(request, templates, services, blank_fields(services, user), [],
                            status=422, kind="new", action="/contribute",
                            heading="Contribute a write-up",
                            upload_problems=[f"{upload.filename}: {p.message}"
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

@router.get("/my/submissions", response_class=HTMLResponse)
def my_submissions(request: Request, services: ServicesDep, templates: TemplatesDep,
                   user: Contributor) -> Response:
    return templates.TemplateResponse(request, "my_submissions.html", {
        "submissions": workflow(services).mine(user)})


@router.get("/my/submissions/{submission_id}", response_class=HTMLResponse)
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


@router.post("/my/submissions/{submission_id}", response_class=HTMLResponse)
def my_submission_post(submission_id: int, request: Request, services: ServicesDep,
                       templates: TemplatesDep, user: Contributor, form: PostedForm
                       ) -> Response:
    sub = _own(services, user, submission_id)
    return handle_post(request, services, templates, user, form, fields_from_form(form),
                       kind=sub.kind, action_url=f"/my/submissions/{sub.id}",
                       heading=_heading(sub), submission=sub, base_hash=sub.base_hash)


@router.post("/my/submissions/{submission_id}/withdraw")
def my_submission_withdraw(submission_id: int, services: ServicesDep,
                           user: Contributor) -> Response:
    workflow(services).withdraw(user, submission_id)
    return RedirectResponse(f"/my/submissions/{submission_id}?done=saved", status_code=303)


def _heading(sub: Submission) -> str:
    return f"Edit proposal for {sub.slug}" if sub.kind == "edit" else "Your write-up"


# -- proposing edits to published write-ups -----------------------------------------------

@router.get("/practice/{slug}/edit", response_class=HTMLResponse)
def edit_page(slug: str, request: Request, services: ServicesDep, templates: TemplatesDep,
              user: Contributor) -> Response:
    text, base_hash = workflow(services).base_for_edit(user, slug)
    fields = fields_from_text(text, services.taxonomy, slug) or Fields(slug=slug)
    return _render_form(request, templates, services, fields, [], kind="edit",
                        action=f"/practice/{slug}/edit", heading=f"Propose an edit: "
                        f"{fields.title}", base_hash=base_hash)


@router.post("/practice/{slug}/edit", response_class=HTMLResponse)
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
