"""Triage: every school's indicators, the change from last year and the gap to similar schools,
with the schools flagged where an indicator is well below schools like them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kb.content.directory import School
from kb.errors import BadInputError
from kb.state.schooldata import (
    INDICATORS,
    Indicator,
    SchoolContext,
    load_contexts,
    load_indicators,
    year_label,
)
from services.likeness import similar_schools
from services.runtime import Services

PEERS = 5
FLAG_SDS = 1.0
RULE = (f"An indicator is flagged when a school's latest figure is worse than the average of "
        f"its {PEERS} most similar schools (by context, same phase; see each school's page) by "
        f"more than {FLAG_SDS:g} standard deviation of that indicator across the schools of the "
        "same phase that reported it that year. A school with no other school of its phase to "
        "compare with is never flagged. For the disadvantaged gap and persistent absence, lower "
        "is better; for the others, higher is better.")
SORTS = ("school", "family", "flags")
ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class Cell:
    """One indicator for one school: the latest figure, how it moved and how it compares."""

    indicator: Indicator
    year: int
    value: float
    change: float | None  # latest minus the year before (None without one)
    similar: float | None  # the average of the similar schools' figures that year
    gap: float | None  # value minus `similar`
    better: bool | None  # is the gap in the good direction (None: no comparison)
    flagged: bool
    series: tuple[tuple[int, float], ...]

    @property
    def year_label(self) -> str:
        return year_label(self.year)


@dataclass(frozen=True)
class Row:
    school: School
    context: SchoolContext | None
    cells: dict[str, Cell]
    peers: tuple[str, ...]

    @property
    def flags(self) -> list[str]:
        return [c.indicator.id for c in self.cells.values() if c.flagged]


@dataclass(frozen=True)
class Triage:
    rows: list[Row]
    indicators: list[Indicator]
    filters: dict[str, str] = field(default_factory=dict)
    total: int = 0


def _worse_by(ind: Indicator, value: float, reference: float) -> float:
    return reference - value if ind.higher_is_better else value - reference


def _spread(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def school_rows(services: Services) -> list[Row]:
    """A row for every school with its cells (schools without figures have none)."""
    contexts = load_contexts(services.state)
    figures = load_indicators(services.state)
    directory = services.directory
    phase_of = {s.id: s.phase for s in directory.schools.values()}
    spreads: dict[tuple[str, int, str], float] = {}
    for ind in INDICATORS:
        for year in {y for series in figures.values() for y in series.get(ind, {})}:
            for phase in set(phase_of.values()):
                spreads[(ind, year, phase)] = _spread([
                    s[ind][year] for sid, s in figures.items()
                    if year in s.get(ind, {}) and phase_of.get(sid) == phase])
    rows = []
    for school in sorted(directory.schools.values(), key=lambda s: s.name):
        peers = [like.school.id for like in similar_schools(directory, contexts, school.id,
                                                             PEERS)]
        cells = {}
        for ind_id, series in figures.get(school.id, {}).items():
            ind = INDICATORS[ind_id]
            year = max(series)
            value = series[year]
            change = value - series[year - 1] if year - 1 in series else None
            peer_values = [figures[p][ind_id][year] for p in peers
                           if year in figures.get(p, {}).get(ind_id, {})]
            similar = sum(peer_values) / len(peer_values) if peer_values else None
            gap = None if similar is None else value - similar
            worse = None if similar is None else _worse_by(ind, value, similar)
            spread = spreads[(ind_id, year, school.phase)]
            same_phase = all(phase_of[p] == school.phase for p in peers)
            flagged = worse is not None and same_phase and spread > 0 and \
                worse > FLAG_SDS * spread
            cells[ind_id] = Cell(ind, year, value, change, similar, gap,
                                 None if worse is None else worse < 0, flagged,
                                 tuple(sorted(series.items())))
        rows.append(Row(school, contexts.get(school.id), cells, tuple(peers)))
    return rows


def _sort_key(sort: str):  # type: ignore[no-untyped-def]
    if sort == "school":
        return lambda r: (r.school.name,)
    if sort == "family":
        return lambda r: (r.school.family, r.school.name)
    if sort == "flags":
        return lambda r: (len(r.flags), r.school.name)
    ind, _, part = sort.partition(":")

    def key(r: Row) -> tuple:  # type: ignore[type-arg]
        cell = r.cells.get(ind)
        value = None if cell is None else {"": cell.value, "change": cell.change,
                                           "gap": cell.gap}[part]
        return (value is None, value if value is not None else 0.0, r.school.name)
    return key


def sort_choices() -> list[tuple[str, str]]:
    """(value, label) of every sort the page offers."""
    out = [("school", "School"), ("family", "Family"), ("flags", "Number of flags")]
    for ind in INDICATORS.values():
        out += [(ind.id, ind.label), (f"{ind.id}:change", f"{ind.label}: change"),
                (f"{ind.id}:gap", f"{ind.label}: gap to similar schools")]
    return out


def triage(services: Services, *, phase: str = "", family: str = "", flagged: bool = False,
           sort: str = "school", order: str = "asc") -> Triage:
    """The triage table, filtered and sorted; a bad parameter raises BadInputError naming it."""
    if phase and phase not in {s.phase for s in services.directory.schools.values()}:
        raise BadInputError(f"parameter 'phase': unknown phase {phase[:40]!r}")
    if family and family not in services.directory.families:
        raise BadInputError(f"parameter 'family': unknown family {family[:40]!r}")
    if sort not in dict(sort_choices()):
        raise BadInputError(f"parameter 'sort': {sort[:40]!r} is not one of "
                            + ", ".join(v for v, _ in sort_choices()))
    if order not in ORDERS:
        raise BadInputError("parameter 'order': use asc or desc")
    rows = school_rows(services)
    total = len(rows)
    rows = [r for r in rows if (not phase or r.school.phase == phase)
            and (not family or r.school.family == family) and (not flagged or r.flags)]
    key = _sort_key(sort)
    if order == "desc":
        present = sorted((r for r in rows if key(r)[0] is not True), key=key, reverse=True)
        rows = present + [r for r in rows if key(r)[0] is True]
    else:
        rows.sort(key=key)
    shown = [ind for ind in INDICATORS.values() if not phase or phase in ind.phases]
    return Triage(rows, shown, {"phase": phase, "family": family,
                                "flagged": "yes" if flagged else "", "sort": sort,
                                "order": order}, total)
