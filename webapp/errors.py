"""Translates errors once: JSON under /api, a friendly HTML page everywhere else."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from kb.errors import BadInputError, IndexUnavailableError, KBError, NotFoundError

log = logging.getLogger(__name__)

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


def error_response(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse({"detail": message}, status_code=status)
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return JSONResponse({"detail": message}, status_code=status)
    return templates.TemplateResponse(request, "error.html", {
        "status": status, "title": TITLES.get(status, "Error"), "message": message,
    }, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return error_response(request, 404, str(exc))

    @app.exception_handler(BadInputError)
    async def bad_input(request: Request, exc: BadInputError) -> Response:
        return error_response(request, 422, str(exc))

    @app.exception_handler(IndexUnavailableError)
    async def no_index(request: Request, exc: IndexUnavailableError) -> Response:
        log.error("index unavailable: %s", exc)
        return error_response(request, 503, "The search index is not ready. It is rebuilt "
                                             "automatically; please try again in a minute.")

    @app.exception_handler(KBError)
    async def kb_error(request: Request, exc: KBError) -> Response:
        log.error("request failed: %s", exc)
        return error_response(request, 500, "The request could not be completed.")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'query')}: {err.get('msg')}"
            for err in exc.errors())
        return error_response(request, 422, f"invalid parameter: {reasons}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "There is no page at this address. Try searching the library "
                        "instead."}.get(exc.status_code, str(exc.detail))
        return error_response(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, "Something went wrong on our side. The problem "
                                            "has been logged.")
