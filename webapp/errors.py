"""Translates errors once, from one table: each error class has its status and message, shown
as JSON under /api and as a friendly HTML page everywhere else."""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
    TooManyRequestsError,
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
    KBError: Outcome(500, "The request could not be completed.", log="request failed"),
    StarletteHTTPException: Outcome(0),  # 404 for an unknown address, 405, ...
    Exception: Outcome(500, "Something went wrong on our side. The problem has been logged."),
}

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
NO_SUCH_PAGE = "There is no page at this address. Try searching the library instead."


def outcome_of(exc: Exception) -> Outcome:
    """The row of ERRORS for this exception: its own class's, else its nearest ancestor's."""
    for cls in type(exc).__mro__:
        if cls in ERRORS:
            return ERRORS[cls]
    return ERRORS[Exception]


def error_response(request: Request, status: int, message: str,
                   title: str = "") -> Response:
    """JSON {"detail": message} under /api (or before templates exist), else the error page."""
    if request.url.path.startswith("/api"):
        return JSONResponse({"detail": message}, status_code=status)
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return JSONResponse({"detail": message}, status_code=status)
    return templates.TemplateResponse(request, "error.html", {
        "status": status, "title": title or TITLES.get(status, "Error"), "message": message,
    }, status_code=status)


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
    outcome = outcome_of(exc)
    if outcome is ERRORS[Exception]:  # a bug: keep the traceback
        log.exception("unexpected error on %s", request.url.path)
    elif outcome.log:
        log.error("%s: %s", outcome.log, exc)
    if isinstance(exc, LoginRequired) and not request.url.path.startswith("/api"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(safe_next(target))}", status_code=303)
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else outcome.status
    words, title = outcome.message or _words(exc, status), ""
    if isinstance(exc, BadInputError) and request.method == "POST" and \
            not request.url.path.startswith("/api"):
        # A form on a page: the teacher sees what to do; the API keeps the exact wording.
        words, title = plain_sentence(words), "Please check what you entered"
    response = error_response(request, status, words, title)
    if isinstance(exc, TooManyRequestsError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def install(app: FastAPI) -> None:
    """Send every error class of ERRORS to the one handler; call from create_app."""
    for error_class in ERRORS:
        app.add_exception_handler(error_class, handle_error)
