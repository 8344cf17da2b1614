"""Keeping the library fresh: the review-due list and the CPD leads' dashboard."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from kb.state.accounts import User
from services.dashboard import SERIES, due_for_review, last_months, monthly_counts
from webapp.charts import chart
from webapp.deps import Moderator, ServicesDep, TemplatesDep, require_role

router = APIRouter(include_in_schema=False)


@router.get("/moderation/reviews", response_class=HTMLResponse)
def reviews_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                 user: Moderator, within: int = 90) -> Response:
    """Write-ups overdue or due for review within `within` days, soonest first."""
    today = dt.date.today()
    return templates.TemplateResponse(request, "reviews.html", {
        "due": due_for_review(services, within, today), "today": today.isoformat(),
        "within": within})


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, services: ServicesDep, templates: TemplatesDep,
              user: User = Depends(require_role("curator", "moderator")),
              months: int = 12) -> Response:
    span = last_months(max(1, min(months, 240)))
    counts = monthly_counts(services, span)
    charts = [chart(key, title, counts[key], span) for key, title in SERIES]
    return templates.TemplateResponse(request, "dashboard.html", {
        "charts": charts, "months": span})
