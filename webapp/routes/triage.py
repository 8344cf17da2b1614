"""Triage for challenge leads: /triage (a sortable, filterable table with trend lines) and its
JSON twin /api/triage; everyone else gets a 403."""

from __future__ import annotations

from typing import Annotated, Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from kb.state.schooldata import year_label
from services.triage import RULE, Triage, sort_choices, triage
from webapp.charts import sparkline
from webapp.deps import ChallengeLead, ServicesDep, TemplatesDep
from webapp.school_schemas import TriageCell, TriageResponse, TriageRow

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])
Text = Annotated[str, Query(max_length=80)]


def _flag(value: str) -> bool:
    return value.lower() in ("yes", "1", "true", "on")


@pages.get("/triage", response_class=HTMLResponse)
def triage_page(request: Request, user: ChallengeLead, services: ServicesDep,
                templates: TemplatesDep, phase: Text = "", family: Text = "",
                flagged: Text = "", sort: Text = "school", order: Text = "asc"
                ) -> HTMLResponse:
    table = triage(services, phase=phase, family=family, flagged=_flag(flagged), sort=sort,
                   order=order)
    lines = {(row.school.id, ind): sparkline(cell.series, f"{cell.indicator.label}: " + ", ".join(
        f"{year_label(y)} {v:g}" for y, v in cell.series))
        for row in table.rows for ind, cell in row.cells.items()}
    return templates.TemplateResponse(request, "triage.html", {
        "table": table, "rule": RULE, "lines": lines, "sorts": sort_choices(),
        "phases": sorted({s.phase for s in services.directory.schools.values()}),
        "families": sorted(services.directory.families.values(), key=lambda f: f.name),
        "flagged_count": sum(1 for r in table.rows if r.flags),
        "query_with": _query_with(table.filters),
    })


def _query_with(filters: dict[str, str]) -> Callable[..., str]:
    """Links that keep the filters; choosing the current sort again reverses its order."""
    def query_with(**changes: str) -> str:
        params = {k: v for k, v in filters.items() if v}
        if changes.get("sort"):
            same = changes["sort"] == filters.get("sort")
            params["order"] = ("desc" if filters.get("order") == "asc" else "asc") if same \
                else "asc"
        params.update(changes)
        return urlencode(params)
    return query_with


def _response(table: Triage) -> TriageResponse:
    return TriageResponse(rule=RULE, total=table.total, filters=table.filters, rows=[TriageRow(
        school=row.school.id, name=row.school.name, url=f"/schools/{row.school.id}",
        phase=row.school.phase, family=row.school.family, similar_schools=list(row.peers),
        flags=row.flags, cells=[TriageCell(
            indicator=c.indicator.id, label=c.indicator.label, year=c.year, value=c.value,
            change=c.change, similar_average=c.similar, gap=c.gap,
            better_than_similar=c.better, flagged=c.flagged,
            series={year_label(y): v for y, v in c.series}) for c in row.cells.values()])
        for row in table.rows])


@api.get("/triage", response_model=TriageResponse)
def api_triage(user: ChallengeLead, services: ServicesDep, phase: Text = "", family: Text = "",
               flagged: Text = "", sort: Text = "school", order: Text = "asc"
               ) -> TriageResponse:
    """Every school's latest indicators, change and gap to similar schools (challenge leads)."""
    return _response(triage(services, phase=phase, family=family, flagged=_flag(flagged),
                            sort=sort, order=order))


router = APIRouter()
router.include_router(pages)
router.include_router(api)
