"""Keeping the library fresh: the review-due list and the CPD leads' dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from indexer.gaps import is_gap
from kb.workflows import support
from kb.workflows import transfer
from kb.state.accounts import User
from kb.state.searchlog import recent_searches, searches_per_month
from webapp.auth import Moderator, require_role
from webapp.deps import ServicesDep, TemplatesDep

router = APIRouter(include_in_schema=False)
GAP_MIN_SCORE = 0.45  # the same default as indexer.gaps.find_gaps
CHART_W, CHART_H, BAR_GAP = 640, 160, 4


@router.get("/moderation/reviews", response_class=HTMLResponse)
def reviews_page(request: Request, services: ServicesDep, templates: TemplatesDep,
                 user: Moderator, within: int = 90) -> Response:
    """Write-ups overdue or due for review within `within` days, soonest first."""
    today = dt.date.today()
    horizon = today + dt.timedelta(days=max(0, min(within, 3650)))
    due = sorted(((d.meta.get("review_due", ""), d) for d in services.engine.documents()
                  if d.meta.get("review_due") and
                  dt.date.fromisoformat(d.meta["review_due"]) <= horizon),
                 key=lambda pair: (pair[0], pair[1].title))
    return templates.TemplateResponse(request, "reviews.html", {
        "due": due, "today": today.isoformat(), "within": within})


@dataclass(frozen=True)
class Bar:
    month: str
    value: int
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Chart:
    """One monthly series laid out as SVG bars (numbers only: nothing user-supplied)."""

    key: str
    title: str
    bars: list[Bar]
    total: int
    width: int = CHART_W
    height: int = CHART_H


def chart(key: str, title: str, counts: dict[str, int], months: list[str]) -> Chart:
    """Bars for `months`, scaled so the largest value fills the chart's height."""
    top = max([counts.get(m, 0) for m in months] + [1])
    width = max(2, CHART_W // max(len(months), 1) - BAR_GAP)
    bars = []
    for i, month in enumerate(months):
        value = counts.get(month, 0)
        height = round(value / top * (CHART_H - 20))
        bars.append(Bar(month, value, i * (width + BAR_GAP), CHART_H - height, width, height))
    return Chart(key, title, bars, sum(counts.get(m, 0) for m in months))


def last_months(count: int, today: dt.date | None = None) -> list[str]:
    """The `count` months up to and including this one, oldest first, as YYYY-MM."""
    today = today or dt.date.today()
    year, month, out = today.year, today.month, []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, services: ServicesDep, templates: TemplatesDep,
              user: User = Depends(require_role("curator", "moderator")),
              months: int = 12) -> Response:
    span = last_months(max(1, min(months, 240)))
    published: dict[str, int] = {}
    for doc in services.engine.documents():
        published[doc.date[:7]] = published.get(doc.date[:7], 0) + 1
    gaps: dict[str, int] = {}
    for search in recent_searches(services.state, since=span[0]):
        if search.query.strip() and is_gap(search, GAP_MIN_SCORE):
            gaps[search.at[:7]] = gaps.get(search.at[:7], 0) + 1
    charts = [
        chart("published", "Write-ups published (by their date)", published, span),
        chart("searches", "Searches", searches_per_month(services.state), span),
        chart("gaps", "Searches that found nothing convincing", gaps, span),
        chart("support", "Support requests", support.per_month(services.state), span),
        chart("transfers", "“We tried this too” reports", transfer.per_month(services.state),
              span),
    ]
    return templates.TemplateResponse(request, "dashboard.html", {
        "charts": charts, "months": span})
