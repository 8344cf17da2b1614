"""The published API schema, made to match what the API answers: every error body is
{"detail": text} (with an error id on a 500), and each operation lists the statuses it returns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from webapp.deps import RoleGate
from webapp.errors import TITLES

SAFE = {"GET", "HEAD", "OPTIONS"}
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
ERROR_SCHEMA = {
    "title": "ErrorOut", "type": "object", "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "title": "Detail",
                   "description": "what went wrong, naming the field or parameter"},
        "error_id": {"type": "string", "title": "Error id",
                     "description": "on a 500 only: the id it was logged under"},
    },
}
EXTRA_TITLES = {422: "A parameter or field was not accepted",
                503: "The search index is being prepared, or storage is full or read-only"}


def _gated(route: APIRoute) -> bool:
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        if isinstance(dependency.call, RoleGate):
            return True
        stack.extend(dependency.dependencies)
    return False


def statuses_of(route: APIRoute, methods: set[str], path: str) -> set[int]:
    """The error statuses one operation can answer, from what the route declares."""
    codes = {422, 503}  # bad input anywhere; index not ready or storage refusing a write
    if _gated(route):
        codes |= {401, 403}
    if "{" in path:
        codes.add(404)
    if methods - SAFE:
        # a malformed body or length, a refused sign-in, CSRF and Origin, changed meanwhile,
        # too large, too many attempts
        codes |= {400, 401, 403, 409, 413, 429}
    return codes


def api_schema(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema with the error responses this app really sends; built once."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)  # our 422 is {"detail": text}, not FastAPI's list
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        path = context.path.replace(":int}", "}")
        methods = set(context.methods or ()) - {"HEAD"}
        for method in methods:
            operation = schema["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in sorted(statuses_of(route, methods, path)):
                responses[str(code)] = {
                    "description": EXTRA_TITLES.get(code) or TITLES.get(code, "Error"),
                    "content": {"application/json": {"schema": ERROR_REF}}}
    app.openapi_schema = schema
    return schema
