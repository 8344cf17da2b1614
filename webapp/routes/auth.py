"""Signing in and out, as pages and as the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from kb.errors import AuthenticationError, TooManyRequestsError
from kb.state.accounts import LoginPolicy, User, authenticate, end_session, start_session
from services.runtime import Services
from webapp.deps import ServicesDep, SignedIn, TemplatesDep, csrf_protect
from webapp.params import safe_next
from webapp.schemas import LoginIn, Me
from webapp.security import (
    csrf_token,
    delete_cookie,
    presession_cookie,
    session_cookie,
    set_cookie,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["accounts"])


def policy_of(services: Services) -> LoginPolicy:
    s = services.settings
    return LoginPolicy(s.login_max_failures, s.login_lockout_seconds, s.session_hours)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _sign_in(request: Request, services: Services, email: str, password: str) -> User:
    """Check the password and start a fresh session (its id goes into request.state)."""
    user = authenticate(services.state, email, password, _client(request), policy_of(services))
    old = getattr(request.state, "session_token", "")
    if old:
        end_session(services.state, old)  # never carry a session id across a sign-in
    request.state.session_token = start_session(services.state, user, policy_of(services))
    request.state.new_presession = ""
    return user


def _set_session_cookie(response: Response, request: Request, services: Services) -> None:
    set_cookie(response, request, session_cookie(request), request.state.session_token,
               max_age=services.settings.session_hours * 3600)
    delete_cookie(response, request, presession_cookie(request))


# -- pages -------------------------------------------------------------------------------

@pages.get("/login", response_class=HTMLResponse)
def login_page(request: Request, templates: TemplatesDep, next: str = "/") -> Response:
    return templates.TemplateResponse(request, "login.html", {
        "next": safe_next(next), "email": "", "error": ""})


@pages.post("/login", dependencies=[Depends(csrf_protect)], response_class=HTMLResponse)
def login_submit(request: Request, services: ServicesDep, templates: TemplatesDep,
                 email: Annotated[str, Form(max_length=254)] = "",
                 password: Annotated[str, Form(max_length=1024)] = "",
                 next: Annotated[str, Form(max_length=500)] = "/") -> Response:
    target = safe_next(next)
    try:
        _sign_in(request, services, email, password)
    except (AuthenticationError, TooManyRequestsError) as exc:
        status = 429 if isinstance(exc, TooManyRequestsError) else 401
        page = templates.TemplateResponse(request, "login.html", {
            "next": target, "email": email[:254], "error": str(exc)}, status_code=status)
        if isinstance(exc, TooManyRequestsError):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, request, services)
    return response


@pages.get("/logout", response_class=HTMLResponse)
def logout_page(request: Request, templates: TemplatesDep) -> Response:
    if getattr(request.state, "user", None) is None:
        return RedirectResponse("/", status_code=303)
    return templates.TemplateResponse(request, "logout.html", {})


@pages.post("/logout")
def logout(request: Request, services: ServicesDep, user: SignedIn) -> Response:
    end_session(services.state, request.state.session_token, actor=user.email)
    response = RedirectResponse("/", status_code=303)
    delete_cookie(response, request, session_cookie(request))
    return response


# -- API ---------------------------------------------------------------------------------

def me_of(request: Request, user: User) -> Me:
    return Me(email=user.email, name=user.name, role=user.role, school=user.school,
              family=user.family, csrf_token=csrf_token(request))


@api.post("/login", response_model=Me)
def api_login(body: LoginIn, request: Request, services: ServicesDep) -> Response:
    """Sign in with a JSON body; the session cookie is set on the response."""
    user = _sign_in(request, services, body.email, body.password)
    response = JSONResponse(me_of(request, user).model_dump())
    _set_session_cookie(response, request, services)
    return response


@api.get("/me", response_model=Me)
def api_me(request: Request, user: SignedIn) -> Me:
    """The signed-in account and its CSRF token."""
    return me_of(request, user)


@api.post("/logout", status_code=204)
def api_logout(request: Request, services: ServicesDep, user: SignedIn) -> Response:
    """Sign out: the session ends and its cookie is removed (answers 204, no body)."""
    end_session(services.state, request.state.session_token, actor=user.email)
    response = Response(status_code=204)
    delete_cookie(response, request, session_cookie(request))
    return response


router = APIRouter()
router.include_router(api)
router.include_router(pages)
