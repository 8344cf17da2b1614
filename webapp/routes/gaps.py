"""The knowledge-gap list for moderators and curators: what people searched for and did not
find, grouped by meaning, as a page and as CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.gaps import gaps_csv, recent_gaps
from webapp.deps import CurationDep, Reviewer, ServicesDep, TemplatesDep

router = APIRouter(include_in_schema=False)
Days = Annotated[int, Query(ge=1, le=3650)]


@router.get("/gaps", response_class=HTMLResponse)
def gaps_page(request: Request, services: ServicesDep, templates: TemplatesDep,
              curation: CurationDep, user: Reviewer, days: Days = 90) -> HTMLResponse:
    clusters = recent_gaps(services.state, services.engine.embedder, days,
                           tuning=curation.tuning)
    return templates.TemplateResponse(request, "gaps.html", {
        "clusters": clusters, "days": days,
        "open": sum(1 for c in clusters if not c.answered),
    })


@router.get("/gaps.csv")
def gaps_download(services: ServicesDep, curation: CurationDep, user: Reviewer,
                  days: Days = 90) -> Response:
    clusters = recent_gaps(services.state, services.engine.embedder, days,
                           tuning=curation.tuning)
    return Response(gaps_csv(clusters), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="gaps.csv"'})
