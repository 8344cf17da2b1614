"""/docs: the JSON API's reference as a plain page (webapp.reference reads the app's schema).

It needs no script and nothing from another site (FastAPI's explorer loads its code from a
CDN, which leaves a blank page on a school network that blocks it or on a machine offline).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from webapp.deps import TemplatesDep
from webapp.reference import endpoints, models

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def api_reference(request: Request, templates: TemplatesDep) -> HTMLResponse:
    schema = request.app.openapi()
    return templates.TemplateResponse(request, "api_reference.html", {
        "info": schema.get("info", {}), "groups": endpoints(schema), "models": models(schema)})
