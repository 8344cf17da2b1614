"""Joining and getting back in: accepting an invitation, "Forgot your password?" and the
reset link. Each link that cannot be used gets a page saying why, never an error trace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from kb.errors import BadInputError, ConflictError
from kb.state.accounts import LoginPolicy, User, end_session, start_session
from kb.workflows import invitations, resets
from services.runtime import Services
from webapp.deps import ServicesDep, TemplatesDep, csrf_protect
from webapp.security import presession_cookie, session_cookie, set_cookie

router = APIRouter(include_in_schema=False)
TOKEN_STATUS = {"unknown": 404, "expired": 410, "used": 410, "revoked": 410}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _policy(services: Services) -> LoginPolicy:
    s = services.settings
    return LoginPolicy(s.login_max_failures, s.login_lockout_seconds, s.session_hours)


def _signed_in(request: Request, services: Services, user: User, target: str) -> Response:
    """A fresh session for a user who just proved themselves with a link and a password."""
    s = services.settings
    policy = _policy(services)
    old = getattr(request.state, "session_token", "")
    if old:
        end_session(services.state, old)
    token = start_session(services.state, user, policy)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, session_cookie(request), token,
               max_age=s.session_hours * 3600)
    response.delete_cookie(presession_cookie(request), path="/")
    return response


def _bad_link(request: Request, templates: TemplatesDep, exc: invitations.TokenError,
              what: str) -> Response:
    return templates.TemplateResponse(request, "link_unusable.html", {
        "what": what, "reason": exc.reason, "message": str(exc)},
        status_code=TOKEN_STATUS.get(exc.reason, 400))


# -- invitations -------------------------------------------------------------------------

@router.get("/invite/{token}", response_class=HTMLResponse)
def invite_page(token: str, request: Request, services: ServicesDep,
                templates: TemplatesDep) -> Response:
    try:
        inv = invitations.find(services.state, token)
    except invitations.TokenError as exc:
        return _bad_link(request, templates, exc, "invitation")
    school = services.directory.schools.get(inv.school)
    return templates.TemplateResponse(request, "invite_accept.html", {
        "invitation": inv, "school": school, "token": token, "error": "", "name": inv.name})


@router.post("/invite/{token}", dependencies=[Depends(csrf_protect)],
             response_class=HTMLResponse)
def invite_accept(token: str, request: Request, services: ServicesDep,
                  templates: TemplatesDep, name: Annotated[str, Form(max_length=120)] = "",
                  password: Annotated[str, Form(max_length=1024)] = "",
                  confirm: Annotated[str, Form(max_length=1024)] = "") -> Response:
    # Failed tries count per invitation, or per address for unknown links (429 past either).
    try:
        user = invitations.accept(services.state, token, password, name, confirm=confirm,
                                  client=_client(request), policy=_policy(services))
    except invitations.TokenError as exc:
        return _bad_link(request, templates, exc, "invitation")
    except (BadInputError, ConflictError) as exc:
        inv = invitations.find(services.state, token)  # still usable: the password was wrong
        return templates.TemplateResponse(request, "invite_accept.html", {
            "invitation": inv, "school": services.directory.schools.get(inv.school),
            "token": token, "error": str(exc), "name": name}, status_code=422)
    return _signed_in(request, services, user, "/")


# -- password reset ------------------------------------------------------------------------

@router.get("/forgot", response_class=HTMLResponse)
def forgot_page(request: Request, templates: TemplatesDep) -> Response:
    return templates.TemplateResponse(request, "forgot.html", {"sent": False, "email": ""})


@router.post("/forgot", dependencies=[Depends(csrf_protect)], response_class=HTMLResponse)
def forgot_submit(request: Request, services: ServicesDep, templates: TemplatesDep,
                  email: Annotated[str, Form(max_length=254)] = "") -> Response:
    # The same page whether or not the address has an account; past the limits per address
    # and per client, the 429 page (the same for every address, so it tells nothing).
    resets.request_reset(services.state, services.settings, email, _client(request))
    return templates.TemplateResponse(request, "forgot.html", {"sent": True,
                                                               "email": email[:254]})


@router.get("/reset/{token}", response_class=HTMLResponse)
def reset_page(token: str, request: Request, services: ServicesDep,
               templates: TemplatesDep) -> Response:
    try:
        resets.check_token(services.state, token)
    except invitations.TokenError as exc:
        return _bad_link(request, templates, exc, "reset link")
    return templates.TemplateResponse(request, "reset.html", {"token": token, "error": ""})


@router.post("/reset/{token}", dependencies=[Depends(csrf_protect)],
             response_class=HTMLResponse)
def reset_submit(token: str, request: Request, services: ServicesDep, templates: TemplatesDep,
                 password: Annotated[str, Form(max_length=1024)] = "",
                 confirm: Annotated[str, Form(max_length=1024)] = "") -> Response:
    try:
        user = resets.complete_reset(services.state, services.settings, token, password,
                                     confirm=confirm, client=_client(request),
                                     policy=_policy(services))
    except invitations.TokenError as exc:
        return _bad_link(request, templates, exc, "reset link")
    except BadInputError as exc:
        return templates.TemplateResponse(request, "reset.html", {
            "token": token, "error": str(exc)}, status_code=422)
    return _signed_in(request, services, user, "/")
