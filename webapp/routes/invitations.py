"""Sending and managing invitations, as pages and as their JSON twins under /api: admins for
any school, family leads for their own family's schools (the same library functions as
`kb user invite`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile
from starlette.responses import Response

from kb.errors import BadInputError, ConflictError, PermissionDeniedError, TooManyRequestsError
from kb.state.accounts import INVITER_ROLES, ROLES, User
from kb.workflows import invitations
from webapp.deps import PostedForm, ServicesDep, TemplatesDep, require_role
from webapp.people_schemas import InvitationIn, InvitationOut, invitation_out

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["accounts"])
Inviter = Annotated[User, Depends(require_role(*INVITER_ROLES))]
MAX_CSV_BYTES = 200_000


def _context(services: Any, user: User, **extra: Any) -> dict[str, Any]:
    schools = sorted(services.directory.schools.values(), key=lambda s: s.name)
    if not user.has_role("admin"):
        schools = [s for s in schools if s.family == user.family]
    roles = ROLES if user.has_role("admin") else invitations.LEAD_MAY_INVITE
    context = {"invitations": invitations.list_invitations(services.state, user),
               "schools": schools, "roles": roles, "form": {}, "error": "", "sent": [],
               "problems": [], "directory": services.directory}
    context.update(extra)
    return context


def _page(request: Request, templates: TemplatesDep, context: dict[str, Any],
          status: int = 200) -> Response:
    return templates.TemplateResponse(request, "invitations.html", context, status_code=status)


@pages.get("/admin/invitations", response_class=HTMLResponse)
def invitations_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                     user: Inviter, done: str = "") -> Response:
    return _page(request, templates, _context(services, user, done=done[:200]))


@pages.post("/admin/invitations", response_class=HTMLResponse)
def invite_one(request: Request, services: ServicesDep, templates: TemplatesDep,
               user: Inviter, form: PostedForm) -> Response:
    values = {k: str(form.get(k, ""))[:254] for k in ("email", "name", "role", "school")}
    try:
        sent = invitations.invite(services.state, services.directory, services.settings, user,
                                  **values)
    except (BadInputError, ConflictError, PermissionDeniedError) as exc:
        return _page(request, templates, _context(services, user, form=values, error=str(exc)),
                     status=422)
    except TooManyRequestsError as exc:
        return _page(request, templates, _context(services, user, form=values, error=str(exc)),
                     status=429)
    return RedirectResponse(f"/admin/invitations?done=Invited+{sent.invitation.email}",
                            status_code=303)


@pages.post("/admin/invitations/csv", response_class=HTMLResponse)
async def invite_many(request: Request, services: ServicesDep, templates: TemplatesDep,
                      user: Inviter, form: PostedForm) -> Response:
    upload = form.get("file")
    role, school = str(form.get("role", ""))[:40], str(form.get("school", ""))[:120]
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, templates, _context(services, user, error="file: choose a CSV "
                                                  "file to upload"), status=422)
    data = await upload.read(MAX_CSV_BYTES + 1)
    try:
        if len(data) > MAX_CSV_BYTES:
            raise BadInputError(f"file: larger than {MAX_CSV_BYTES // 1000} kB; split it")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadInputError("file: not UTF-8 text; save the sheet as CSV UTF-8") from None
        result = invitations.invite_csv(services.state, services.directory,
                                        services.settings, user, text, role=role,
                                        school=school)
    except BadInputError as exc:
        return _page(request, templates, _context(services, user, error=str(exc)), status=422)
    return _page(request, templates, _context(services, user, sent=result.sent,
                                              problems=result.problems))


@pages.post("/admin/invitations/{inv_id:int}/revoke")
def revoke(inv_id: int, services: ServicesDep, user: Inviter) -> Response:
    inv = invitations.revoke(services.state, user, inv_id)
    return RedirectResponse(f"/admin/invitations?done=Revoked+{inv.email}", status_code=303)


@pages.post("/admin/invitations/{inv_id:int}/resend")
def resend(inv_id: int, services: ServicesDep, user: Inviter) -> Response:
    sent = invitations.resend(services.state, services.directory, services.settings, user,
                              inv_id)
    return RedirectResponse(f"/admin/invitations?done=Sent+again+to+{sent.invitation.email}",
                            status_code=303)


# -- the JSON twins -----------------------------------------------------------------------

@api.get("/invitations", response_model=list[InvitationOut])
def api_invitations(services: ServicesDep, user: Inviter) -> list[InvitationOut]:
    """Invitations, newest first, with their state: every one for admins, their family's
    for a family lead."""
    return [invitation_out(inv, services.directory)
            for inv in invitations.list_invitations(services.state, user)]


@api.post("/invitations", response_model=InvitationOut, status_code=201)
def api_invite(body: InvitationIn, services: ServicesDep, user: Inviter) -> InvitationOut:
    """Invite one person by e-mail (the link goes only to them); 409 when they have an
    account or a live invitation already."""
    sent = invitations.invite(services.state, services.directory, services.settings, user,
                              **body.model_dump())
    return invitation_out(sent.invitation, services.directory)


@api.post("/invitations/{inv_id:int}/revoke", response_model=InvitationOut)
def api_revoke(inv_id: int, services: ServicesDep, user: Inviter) -> InvitationOut:
    """Stop an invitation's link working; 409 when it was accepted already."""
    return invitation_out(invitations.revoke(services.state, user, inv_id), services.directory)


@api.post("/invitations/{inv_id:int}/resend", response_model=InvitationOut)
def api_resend(inv_id: int, services: ServicesDep, user: Inviter) -> InvitationOut:
    """Send a new link with a fresh expiry (the old link stops working)."""
    sent = invitations.resend(services.state, services.directory, services.settings, user,
                              inv_id)
    return invitation_out(sent.invitation, services.directory)


router = APIRouter()
router.include_router(pages)
router.include_router(api)
