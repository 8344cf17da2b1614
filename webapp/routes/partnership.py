"""The partnership overview for challenge leads: /partnership (charts with their numbers in
tables) and the JSON twin of each list, /api/partnership."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.overview import Overview, overview
from webapp.charts import GroupChart, group_chart
from webapp.deps import ChallengeLead, ServicesDep, TemplatesDep
from webapp.school_schemas import CountRow, PartnershipOut, SupportWriteupOut

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def _charts(view: Overview) -> list[GroupChart]:
    return [group_chart("states", "Pairings by state",
                        [(label, n) for _, label, n in view.by_state]),
            group_chart("indicators", "Open priorities by indicator",
                        [(label, n) for _, label, n in view.by_indicator])]


@pages.get("/partnership", response_class=HTMLResponse)
def partnership_page(request: Request, user: ChallengeLead, services: ServicesDep,
                     templates: TemplatesDep) -> HTMLResponse:
    view = overview(services, user)
    return templates.TemplateResponse(request, "partnership.html", {
        "view": view, "charts": _charts(view),
        "names": {s.id: s.name for s in services.directory.schools.values()}})


@api.get("/partnership", response_model=PartnershipOut)
def api_partnership(user: ChallengeLead, services: ServicesDep) -> PartnershipOut:
    """Priorities, pairings by state, reviewed outcomes and the write-ups that came out of
    support, across the challenge."""
    view = overview(services, user)
    return PartnershipOut(
        priorities_open=view.priorities_open, priorities_closed=view.priorities_closed,
        by_indicator=[CountRow(key=k, label=label, count=n) for k, label, n in view.by_indicator],
        by_state=[CountRow(key=k, label=label, count=n) for k, label, n in view.by_state],
        reviewed=[f"/api/pairings/{p.id}" for p in view.reviewed],
        schools_supported=view.schools_supported, schools_supporting=view.schools_supporting,
        writeups_from_support=len(view.writeups),
        writeups=[SupportWriteupOut(slug=w.slug, title=w.title, url=f"/practice/{w.slug}",
                                    api=f"/api/practices/{w.slug}", pairing=w.pairing_id,
                                    pairing_url=f"/api/pairings/{w.pairing_id}",
                                    school=w.school, partner=w.partner,
                                    published_at=w.published_at) for w in view.writeups])


router = APIRouter()
router.include_router(pages)
router.include_router(api)
