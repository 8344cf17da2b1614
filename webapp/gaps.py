"""The knowledge-gap list for moderators and curators: what people searched for and did not
find, grouped by meaning, as a page and as CSV."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from indexer.gaps import GapCluster, find_gaps, gaps_csv
from kb.state.searchlog import recent_searches
from webapp.auth import require_role
from webapp.deps import ServicesDep, TemplatesDep
from services.runtime import Services

router = APIRouter(include_in_schema=False)
Reviewer = Depends(require_role("moderator", "curator"))
Days = Annotated[int, Query(ge=1, le=3650)]


def _clusters(services: Services, days: int) -> list[GapCluster]:
    since = (dt.date.today() - dt.timedelta(days=days)).isoformat()
    return find_gaps(recent_searches(services.state, since), services.engine.embedder)


@router.get("/gaps", response_class=HTMLResponse, dependencies=[Reviewer])
def gaps_page(request: Request, services: ServicesDep, templates: TemplatesDep,
              days: Days = 90) -> HTMLResponse:
    return templates.TemplateResponse(request, "gaps.html", {
        "clusters": _clusters(services, days), "days": days,
    })


@router.get("/gaps.csv", dependencies=[Reviewer])
def gaps_download(services: ServicesDep, days: Days = 90) -> Response:
    return Response(gaps_csv(_clusters(services, days)), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="gaps.csv"'})
