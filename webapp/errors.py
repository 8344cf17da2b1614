"""Translates errors once, from one table: each error class has its status and message, shown
as JSON under /api and as a friendly HTML page everywhere else."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from kb.errors import (
    AuthenticationError,
    BadInputError,
    ConflictError,
    IndexUnavailableError,
    KBError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    TooManyRequestsError,
    storage_error,
)
from webapp.params import safe_next
from webapp.plain_words import plain_sentence

log = logging.getLogger(__name__)


class LoginRequired(Exception):
    """Raised by a role gate for anonymous requests: pages redirect, the API answers 401."""


@dataclass(frozen=True)
class Outcome:
    """What the visitor gets for one class of error."""

    status: int  # 0: the status the exception carries (HTTPException)
    message: str = ""  # shown instead of the error's own words ('' = its words)
    log: str = ""  # written to the server log before the error's words ('' = not logged)


# One row per error class; a subclass not listed takes its nearest listed ancestor's row.
ERRORS: dict[type[Exception], Outcome] = {
    LoginRequired: Outcome(401, "sign in first (POST /api/login)"),  # pages: sent to sign in
    AuthenticationError: Outcome(401),
    PermissionDeniedError: Outcome(403),  # also a missing or wrong CSRF token
    NotFoundError: Outcome(404),
    ConflictError: Outcome(409),
    BadInputError: Outcome(422),
    RequestValidationError: Outcome(422),  # the words: each bad parameter and why
    TooManyRequestsError: Outcome(429),  # with a Retry-After header
    IndexUnavailableError: Outcome(503, "The search index is not ready. It is rebuilt "
                                        "automatically; please try again in a minute.",
                                   log="index unavailable"),
    StorageError: Outcome(503, log="storage refused a write"),  # full or read-only: see below
    KBError: Outcome(500, "The request could not be completed. The problem has been logged as "
                          "error {error_id}; please quote that if you tell us about it."),
    StarletteHTTPException: Outcome(0),  # 404 for an unknown address, 405, ...
    Exception: Outcome(500, "Something went wrong on our side. The problem has been logged as "
                            "error {error_id}; please quote that if you tell us about it."),
}
STORAGE_FULL = ("The library's storage is full, so nothing was saved. Keep your text (go back "
                "in your browser) and try again later; the site's administrators have been told.")
STORAGE_READ_ONLY = ("The library's storage is read-only just now, so nothing was saved. Keep "
                     "your text (go back in your browser) and try again later; reading and "
                     "searching still work.")

TITLES = {
    400: "That request could not be understood",
    401: "Please sign in",
    403: "You cannot do that",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "That has changed in the meantime",
    413: "That is too large",
    422: "Something in the search was not recognised",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "Search is being prepared",
}
STORAGE_TITLE = "Nothing could be saved"
NO_SUCH_PAGE = "There is no page at this address. Try searching the library instead."


def outcome_of(exc: Exception) -> Outcome:
    """The row of ERRORS for this exception: its own class's, else its nearest ancestor's."""
    for cls in type(exc).__mro__:
        if cls in ERRORS:
            return ERRORS[cls]
    return ERRORS[Exception]


def error_response(request: Request, status: int, message: str, title: str = "",
                   error_id: str = "") -> Response:
    """JSON {"detail": message} under /api (or before templates exist), else the error page;
    an unexpected error also carries the id it was logged under."""
    body: dict[str, str] = {"detail": message}
    if error_id:
        body["error_id"] = error_id
    templates = getattr(request.app.state, "templates", None)
    if request.url.path.startswith("/api") or templates is None:
        return JSONResponse(body, status_code=status)
    return templates.TemplateResponse(request, "error.html", {
        "status": status, "title": title or TITLES.get(status, "Error"), "message": message,
        "error_id": error_id}, status_code=status)


def _words(exc: Exception, status: int) -> str:
    if isinstance(exc, RequestValidationError):
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'query')}: {err.get('msg')}"
            for err in exc.errors())
        return f"invalid parameter: {reasons}"
    if isinstance(exc, StarletteHTTPException):
        return NO_SUCH_PAGE if status == 404 else str(exc.detail)
    return str(exc)


async def handle_error(request: Request, exc: Exception) -> Response:
    """The one handler: look the error up in ERRORS, log it if the row says so, answer."""
    exc = storage_error(exc) or exc
    outcome = outcome_of(exc)
    if outcome.status == 500:  # a bug or a failure: keep the traceback, under an id to quote
        return unexpected_response(request, exc, outcome.message)
    if outcome.log:
        log.error("%s on %s %s: %s", outcome.log, request.method, request.url.path, exc)
    if isinstance(exc, LoginRequired) and not request.url.path.startswith("/api"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(safe_next(target))}", status_code=303)
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else outcome.status
    if isinstance(exc, StorageError):
        return error_response(request, status, STORAGE_FULL if exc.full else STORAGE_READ_ONLY,
                              title=STORAGE_TITLE)
    words, title = outcome.message or _words(exc, status), ""
    if isinstance(exc, BadInputError) and request.method == "POST" and \
            not request.url.path.startswith("/api"):
        # A form on a page: the teacher sees what to do; the API keeps the exact wording.
        words, title = plain_sentence(words), "Please check what you entered"
    elif isinstance(exc, TooManyRequestsError) and not request.url.path.startswith("/api"):
        words = plain_sentence(words) + "."
    response = error_response(request, status, words, title)
    if isinstance(exc, TooManyRequestsError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def unexpected_response(request: Request, exc: BaseException, message: str = "") -> Response:
    """A 500: logged with its traceback under a short id that the visitor is shown."""
    error_id = secrets.token_hex(4)
    log.error("unexpected error %s on %s %s", error_id, request.method, request.url.path,
              exc_info=(type(exc), exc, exc.__traceback__))
    message = (message or ERRORS[Exception].message).format(error_id=error_id)
    try:
        return error_response(request, 500, message, error_id=error_id)
    except Exception:  # the page itself failed (a template, the state): plain JSON then
        log.exception("error page %s could not be rendered", error_id)
        return JSONResponse({"detail": message, "error_id": error_id}, status_code=500)


async def handle_unexpected(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                            ) -> Response:
    """Middleware body: any error that escaped the handlers (a bug, or a failure in another
    middleware) becomes the one 500 answer here, inside the security headers middleware, so
    it carries them and the connection stays usable for the next request."""
    try:
        return await call_next(request)
    except Exception as exc:
        handled = storage_error(exc)
        if handled is not None:
            return await handle_error(request, handled)
        return unexpected_response(request, exc)


def install(app: FastAPI) -> None:
    """Send every error class of ERRORS to the one handler; call from create_app. (Exception
    itself is caught by handle_unexpected, in the middleware: a handler for it would run in
    Starlette's outermost layer, outside the security headers, and re-raise afterwards.)"""
    for error_class in ERRORS:
        if error_class is not Exception:
            app.add_exception_handler(error_class, handle_error)
