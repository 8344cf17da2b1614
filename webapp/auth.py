"""Signing in and out (pages and API), role checks for other routers, and auth errors."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from kb.state.accounts import (CONTRIBUTOR_ROLES, MODERATOR_ROLES, LoginPolicy, User, authenticate,
                         end_session, start_session)
from kb.errors import (AuthenticationError, ConflictError, PermissionDeniedError,
                       TooManyRequestsError)
from webapp.deps import ServicesDep, TemplatesDep
from webapp.errors import error_response
from webapp.security import (SAFE_METHODS, csrf_token, presession_cookie, safe_next,
                             session_cookie, set_cookie, verify_csrf)
from services.runtime import Services

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["accounts"])


class LoginRequired(Exception):
    """Raised by a role gate for anonymous requests: pages redirect, the API answers 401."""


class RoleGate:
    """A dependency admitting signed-in users with one of `roles` (admins always), and
    checking the CSRF token on every state-changing request it guards."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = roles

    async def __call__(self, request: Request) -> User:
        user: User | None = getattr(request.state, "user", None)
        if user is None:
            raise LoginRequired()
        if not user.has_role(*self.roles):
            raise PermissionDeniedError(f"this needs the {' or '.join(self.roles)} role; you "
                                        f"are signed in as a {user.role}")
        if request.method not in SAFE_METHODS:
            await verify_csrf(request)
        return user


def require_role(*roles: str) -> RoleGate:
    """The dependency other routers use: `user: User = Depends(require_role("moderator"))`."""
    return RoleGate(tuple(roles))


SignedIn = Annotated[User, Depends(require_role("reader", "contributor", "moderator", "curator",
                                                "admin"))]
Contributor = Annotated[User, Depends(require_role(*CONTRIBUTOR_ROLES))]
Moderator = Annotated[User, Depends(require_role(*MODERATOR_ROLES))]


async def csrf_protect(request: Request) -> None:
    """For forms anyone may post (sign-in): the token is bound to a pre-session cookie."""
    await verify_csrf(request)


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
    response.delete_cookie(presession_cookie(request), path="/")


# -- pages -------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, templates: TemplatesDep, next: str = "/") -> Response:
    return templates.TemplateResponse(request, "login.html", {
        "next": safe_next(next), "email": "", "error": ""})


@router.post("/login", dependencies=[Depends(csrf_protect)], response_class=HTMLResponse)
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


@router.get("/logout", response_class=HTMLResponse)
def logout_page(request: Request, templates: TemplatesDep) -> Response:
    if getattr(request.state, "user", None) is None:
        return RedirectResponse("/", status_code=303)
    return templates.TemplateResponse(request, "logout.html", {})


@router.post("/logout")
def logout(request: Request, services: ServicesDep, user: SignedIn) -> Response:
    end_session(services.state, request.state.session_token, actor=user.email)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(session_cookie(request), path="/")
    return response


# -- API ---------------------------------------------------------------------------------

class LoginIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class Me(BaseModel):
    email: str
    name: str
    role: str
    school: str
    family: str
    csrf_token: str = Field(description="Send as the X-CSRF-Token header on POST requests.")


def me_of(request: Request, user: User) -> Me:
    return Me(email=user.email, name=user.name, role=user.role, school=user.school,
              family=user.family, csrf_token=csrf_token(request))


@api_router.post("/login", response_model=Me)
def api_login(body: LoginIn, request: Request, services: ServicesDep) -> Response:
    """Sign in with a JSON body; the session cookie is set on the response."""
    user = _sign_in(request, services, body.email, body.password)
    response = JSONResponse(me_of(request, user).model_dump())
    _set_session_cookie(response, request, services)
    return response


@api_router.get("/me", response_model=Me)
def api_me(request: Request, user: SignedIn) -> Me:
    """The signed-in account and its CSRF token."""
    return me_of(request, user)


@api_router.post("/logout", status_code=204)
def api_logout(request: Request, services: ServicesDep, user: SignedIn) -> Response:
    """Sign out: the session ends and its cookie is removed (answers 204, no body)."""
    end_session(services.state, request.state.session_token, actor=user.email)
    response = Response(status_code=204)
    response.delete_cookie(session_cookie(request), path="/")
    return response


# -- wiring ------------------------------------------------------------------------------

def configure_templates(templates: Jinja2Templates) -> None:
    """Globals the header and forms use: the CSRF token and role checks."""
    def can(user: Any, *roles: str) -> bool:
        return bool(user) and user.has_role(*roles)

    templates.env.globals.update(
        csrf_token=csrf_token,
        can_contribute=lambda user: can(user, *CONTRIBUTOR_ROLES),
        can_moderate=lambda user: can(user, *MODERATOR_ROLES))


def install(app: FastAPI) -> None:
    """Routers and error translations for accounts; call from create_app."""
    app.include_router(api_router)
    app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": "sign in first (POST /api/login)"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(safe_next(target))}", status_code=303)

    @app.exception_handler(PermissionDeniedError)
    async def forbidden(request: Request, exc: PermissionDeniedError) -> Response:
        return error_response(request, 403, str(exc))

    @app.exception_handler(AuthenticationError)
    async def unauthenticated(request: Request, exc: AuthenticationError) -> Response:
        return error_response(request, 401, str(exc))

    @app.exception_handler(ConflictError)
    async def conflict(request: Request, exc: ConflictError) -> Response:
        return error_response(request, 409, str(exc))

    @app.exception_handler(TooManyRequestsError)
    async def too_many(request: Request, exc: TooManyRequestsError) -> Response:
        response = error_response(request, 429, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
