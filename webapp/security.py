"""Sessions, CSRF tokens, Origin checks and request-size limits for every request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb.errors import PermissionDeniedError
from kb.state.accounts import session_user
from webapp.errors import error_response

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Form posts to a path ending so (/practice/<slug>/materials, /collections/<slug>/materials)
# carry a file and may be as large as a material plus the form around it.
UPLOAD_SUFFIX = "/materials"
UPLOAD_MARGIN = 100_000


class CsrfError(PermissionDeniedError):
    """A state-changing request without a valid token or from another site."""


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def session_cookie(request: Request) -> str:
    # The __Host- prefix (Secure, Path=/, no Domain) is only accepted by browsers over https.
    return "__Host-kb_session" if is_https(request) else "kb_session"


def presession_cookie(request: Request) -> str:
    return "__Host-kb_pre" if is_https(request) else "kb_pre"


def set_cookie(response: Response, request: Request, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=is_https(request))


def delete_cookie(response: Response, request: Request, name: str) -> None:
    """Expire a cookie; over https with Secure, which browsers demand of __Host- names."""
    response.delete_cookie(name, path="/", httponly=True, samesite="lax",
                           secure=is_https(request))


def csrf_token(request: Request) -> str:
    """The token forms must send back: bound to the session, or before sign-in to a random
    pre-session cookie (set on the response by the middleware)."""
    basis = _csrf_basis(request, create=True)
    return _sign(request, basis)


def _csrf_basis(request: Request, create: bool) -> str:
    token = getattr(request.state, "session_token", "")
    if token:
        return "s:" + token
    pre = request.cookies.get(presession_cookie(request)) or \
        getattr(request.state, "new_presession", "")
    if not pre and create:
        pre = secrets.token_urlsafe(24)
        request.state.new_presession = pre
    return "p:" + pre if pre else ""


def _sign(request: Request, basis: str) -> str:
    secret = request.app.state.services.state.secret()
    return hmac.new(secret, basis.encode("utf-8"), hashlib.sha256).hexdigest()


async def verify_csrf(request: Request) -> None:
    """Refuse (403) a state-changing request whose token is missing or wrong.

    Pages send the token as a form field; the JSON API as an X-CSRF-Token header.
    """
    if request.url.path.startswith("/api"):
        sent = request.headers.get(CSRF_HEADER, "")
    else:
        # A malformed or oversized form raises a 400 here, before anything is stored.
        form = await request.form()
        sent = str(form.get(CSRF_FIELD, ""))
    basis = _csrf_basis(request, create=False)
    if not sent or not basis or not hmac.compare_digest(sent, _sign(request, basis)):
        raise CsrfError("this form has expired or did not come from this site; reload the "
                        "page and try again")


def _cross_site(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    # Compare hosts only: behind a TLS-terminating proxy the scheme seen here may differ.
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def install_middleware(app: FastAPI) -> None:
    """Session loading, Origin checks and body limits; call before the security headers
    middleware is added, so every response (413, 403 ...) still gets those headers."""
    app.add_middleware(BodyLimit)

    @app.middleware("http")
    async def sessions(request: Request, call_next):  # type: ignore[no-untyped-def]
        request.state.user = None
        request.state.session_token = ""
        services = getattr(request.app.state, "services", None)
        token = request.cookies.get(session_cookie(request), "")
        if token and services is not None:
            user = session_user(services.state, token)
            if user is not None:
                request.state.user, request.state.session_token = user, token
        if request.method not in SAFE_METHODS and _cross_site(request):
            return error_response(request, 403, "Requests from other sites are not accepted.")
        response: Response = await call_next(request)
        new_pre = getattr(request.state, "new_presession", "")
        if new_pre:
            set_cookie(response, request, presession_cookie(request), new_pre, max_age=7200)
        if token and request.state.user is None and "set-cookie" not in response.headers:
            delete_cookie(response, request, session_cookie(request))
        if request.state.user is not None:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class BodyLimit:
    """Refuse request bodies over max_body_bytes with a clear 413, before anything parses
    them (the Content-Length is checked first, then the bytes actually received)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        services = getattr(scope["app"].state, "services", None)
        limit = services.settings.max_body_bytes if services is not None else 1_000_000
        if services is not None and scope.get("path", "").endswith(UPLOAD_SUFFIX):
            # Material uploads are files: their own limit (checked again, naming the file).
            limit = max(limit, services.settings.max_material_bytes + UPLOAD_MARGIN)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(scope, send, 400, "The Content-Length header is not a number.")
                return
            if int(declared) > limit:
                await self._refuse(scope, send, 413, _too_large(limit))
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, send, 413, _too_large(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
        request = Request(scope)
        response = error_response(request, status, message)
        response.headers["Connection"] = "close"
        await response(scope, _drain, send)


async def _drain() -> Message:
    return {"type": "http.disconnect"}


def _too_large(limit: int) -> str:
    return (f"That is more than this site accepts in one go ({limit // 1000:,} kB). Shorten "
            "the text or upload a smaller file.")
