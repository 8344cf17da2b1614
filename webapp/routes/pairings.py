"""Brokering and monitoring: a challenge lead proposes a pairing for a priority, both schools
accept, agree a plan, add notes and review it (/pairings/<n>, JSON twin /api/pairings/<n>)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from kb.errors import BadInputError
from kb.state.schooldata import INDICATORS, year_label
from kb.workflows import pairings, priorities
from kb.workflows.pairings import Pairing
from services.brokering import TrendPoint, trend
from services.overview import support_writeups
from services.runtime import Services
from webapp.charts import TrendChart, trend_chart
from webapp.deps import ChallengeLead, PostedForm, ServicesDep, SignedIn, TemplatesDep
from webapp.school_schemas import Milestone, PairingOut

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])
LIMIT = pairings.MAX_TEXT + 10


def _field(form: PostedForm, name: str, limit: int = LIMIT) -> str:
    return str(form.get(name, ""))[:limit]


@pages.post("/priorities/{priority_id:int}/pairings")
def propose_post(priority_id: int, services: ServicesDep, user: ChallengeLead,
                 form: PostedForm) -> Response:
    priority = priorities.get(services.state, user, priority_id)
    partner = services.directory.schools.get(_field(form, "partner", 80))
    if partner is None:
        raise BadInputError("partner: choose one of the schools in the directory")
    made = pairings.propose(services.state, user, priority, partner.id, partner.family,
                            _field(form, "proposal"))
    return RedirectResponse(f"/pairings/{made.id}", status_code=303)


@pages.get("/pairings", response_class=HTMLResponse)
def pairings_list(request: Request, services: ServicesDep, templates: TemplatesDep,
                  user: SignedIn) -> Response:
    return templates.TemplateResponse(request, "pairings.html", {
        "pairings": pairings.visible(services.state, user), "names": _names(services)})


@pages.get("/pairings/{pairing_id:int}", response_class=HTMLResponse)
def pairing_page(pairing_id: int, request: Request, services: ServicesDep,
                 templates: TemplatesDep, user: SignedIn) -> Response:
    found = pairings.get(services.state, user, pairing_id)
    priority = priorities.for_pairing(services.state, found.priority_id)
    points = trend(services, found, priority.indicator)
    return templates.TemplateResponse(request, "pairing.html", {
        "pairing": found, "priority": priority, "names": _names(services),
        "side": pairings.side_of(user, found), "start": year_label(found.start_year),
        "indicator": INDICATORS.get(priority.indicator),
        "trend": points, "chart": _chart(points, priority.indicator, found.start_year),
        "writeups": support_writeups(services, {found.id: found})})


def _chart(points: list[TrendPoint], indicator: str, start: int) -> TrendChart | None:
    if not points:
        return None
    spec = INDICATORS[indicator]
    words = "; ".join(f"{p.year} {p.value:g} ({'since' if p.period == 'since' else 'before'})"
                      for p in points)
    # "2024/25" is the year ending in 2025, labelled "24/25" under its dot (room at 320 px)
    return trend_chart([(int(p.year[:4]) + 1, p.year[2:], p.value, p.period == "since")
                        for p in points],
                       f"{spec.label} ({'higher' if spec.higher_is_better else 'lower'} is "
                       f"better), the pairing began in {year_label(start)}: {words}", start)


def _redirect(pairing_id: int) -> Response:
    return RedirectResponse(f"/pairings/{pairing_id}", status_code=303)


@pages.post("/pairings/{pairing_id:int}/accept")
def accept_post(pairing_id: int, services: ServicesDep, user: SignedIn) -> Response:
    pairings.answer(services.state, user, pairing_id, accept=True)
    return _redirect(pairing_id)


@pages.post("/pairings/{pairing_id:int}/decline")
def decline_post(pairing_id: int, services: ServicesDep, user: SignedIn) -> Response:
    pairings.answer(services.state, user, pairing_id, accept=False)
    return _redirect(pairing_id)


@pages.post("/pairings/{pairing_id:int}/plan")
def plan_post(pairing_id: int, services: ServicesDep, user: SignedIn,
              form: PostedForm) -> Response:
    pairings.set_plan(services.state, user, pairing_id, _field(form, "goal"),
                      _field(form, "milestones", 6000), _field(form, "review_on", 20))
    return _redirect(pairing_id)


@pages.post("/pairings/{pairing_id:int}/notes")
def note_post(pairing_id: int, services: ServicesDep, user: SignedIn,
              form: PostedForm) -> Response:
    pairings.add_note(services.state, user, pairing_id, _field(form, "note"))
    return _redirect(pairing_id)


@pages.post("/pairings/{pairing_id:int}/review")
def review_post(pairing_id: int, services: ServicesDep, user: SignedIn,
                form: PostedForm) -> Response:
    pairings.review(services.state, user, pairing_id, _field(form, "outcome"))
    return _redirect(pairing_id)


def _names(services: Services) -> dict[str, str]:
    return {s.id: s.name for s in services.directory.schools.values()}


def _out(services: Services, p: Pairing) -> PairingOut:
    indicator = priorities.for_pairing(services.state, p.priority_id).indicator
    return PairingOut(
        id=p.id, url=f"/pairings/{p.id}", priority=p.priority_id, school=p.school,
        partner=p.partner, status=p.status, proposal=p.proposal, proposed_by=p.proposed_by,
        school_accepted=p.school_accepted, partner_accepted=p.partner_accepted, goal=p.goal,
        milestones=[Milestone(due=d, what=w) for d, w in p.milestones], review_on=p.review_on,
        outcome=p.outcome, start_year=year_label(p.start_year),
        notes=[{"author": n.author, "text": n.text, "at": n.created_at} for n in p.notes],
        trend=[{"year": t.year, "value": t.value, "period": t.period}
               for t in trend(services, p, indicator)])


@api.get("/pairings", response_model=list[PairingOut])
def api_pairings(services: ServicesDep, user: SignedIn) -> list[PairingOut]:
    """The pairings you may see: your school's, your family's, or all for challenge leads."""
    return [_out(services, p) for p in pairings.visible(services.state, user)]


@api.get("/pairings/{pairing_id}", response_model=PairingOut)
def api_pairing(pairing_id: int, services: ServicesDep, user: SignedIn) -> PairingOut:
    """One pairing with its plan, notes and the indicator before and since it began."""
    return _out(services, pairings.get(services.state, user, pairing_id))


router = APIRouter()
router.include_router(pages)
router.include_router(api)
