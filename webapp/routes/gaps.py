"""The knowledge-gap list for moderators and curators: what people searched for and did not
find, grouped by meaning, as a page and as CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.gaps import gaps_csv, recent_gaps
from webapp.deps import Reviewer, ServicesDep, TemplatesDep

router = APIRouter(include_in_schema=False)
Days = Annotated[int, Query(ge=1, le=3650)]


@router.get("/gaps", response_class=HTMLResponse)
def gaps_page(request: Request, services: ServicesDep, templates: TemplatesDep,
              user: Reviewer, days: Days = 90) -> HTMLResponse:
    return templates.TemplateResponse(request, "gaps.html", {
        "clusters": recent_gaps(services.state, services.engine.embedder, days), "days": days,
    })


@router.get("/gaps.csv")
def gaps_download(services: ServicesDep, user: Reviewer, days: Days = 90) -> Response:
    clusters = recent_gaps(services.state, services.engine.embedder, days)
    return Response(gaps_csv(clusters), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="gaps.csv"'})
