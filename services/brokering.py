"""Brokered support as the pages show it: a pairing's indicator before and after it began, and
the practice write-up it can become (pre-filled for the contribution form)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kb.errors import BadInputError, ConflictError, PermissionDeniedError
from kb.state.accounts import User
from kb.state.schooldata import INDICATORS, load_indicators, year_label
from kb.workflows import pairings, priorities
from kb.workflows.contribution import Fields
from kb.workflows.pairings import Pairing
from services.runtime import Services


@dataclass(frozen=True)
class TrendPoint:
    year: str
    value: float
    period: str  # "before" (years before the pairing began) or "since"


def trend(services: Services, pairing: Pairing, indicator: str) -> list[TrendPoint]:
    """The supported school's figures on the priority's indicator, split at the start year."""
    if not indicator:
        return []
    series = load_indicators(services.state).get(pairing.school, {}).get(indicator, {})
    return [TrendPoint(year_label(y), v, "before" if y < pairing.start_year else "since")
            for y, v in sorted(series.items())]


@dataclass(frozen=True)
class WriteupSource:
    """The reviewed pairing a new write-up comes out of, as the contribution form names it."""

    pairing_id: int
    school: str  # the supported school's name
    partner: str


def writeup_source(services: Services, user: User, pairing_id: int | str) -> WriteupSource:
    """The pairing a write-up may be recorded as coming out of: a reviewed one, written up by
    staff of either of its two schools (checked again on every post of the form)."""
    try:
        number = int(str(pairing_id).strip())
    except ValueError:
        raise BadInputError(f"pairing: {str(pairing_id)[:20]!r} is not a pairing number") \
            from None
    pairing = pairings.get(services.state, user, number)
    if not pairings.side_of(user, pairing):
        raise PermissionDeniedError("only staff of the two schools can write up a pairing")
    if pairing.status != "reviewed":
        raise ConflictError("a pairing is written up once its outcome has been reviewed")
    names = services.directory.schools
    return WriteupSource(pairing.id, names[pairing.school].name, names[pairing.partner].name)


def writeup_fields(services: Services, user: User, pairing_id: int) -> Fields:
    """A draft write-up from a reviewed pairing, for the user's own school (the supported
    school or its partner) to finish and submit through the contribution form."""
    writeup_source(services, user, pairing_id)
    pairing = pairings.get(services.state, user, pairing_id)
    priority = priorities.for_pairing(services.state, pairing.priority_id)
    side = pairings.side_of(user, pairing)
    school = services.directory.schools[pairing.partner if side == "partner" else pairing.school]
    other = services.directory.schools[pairing.school if side == "partner" else pairing.partner]
    label = INDICATORS[priority.indicator].label if priority.indicator else ""
    points = trend(services, pairing, priority.indicator)
    figures = ", ".join(f"{p.year} {p.value:g} ({p.period})" for p in points)
    steps = "\n".join(f"- {day}: {what}" for day, what in pairing.milestones)
    body = (f"## Context\n\n{priority.text}\n\n"
            f"## What we did\n\n{school.name} and {other.name} agreed: {pairing.goal}\n\n"
            f"{steps}\n\n"
            f"## Impact\n\n{pairing.outcome}\n\n"
            + (f"{label}: {figures}.\n\n" if figures else "")
            + "## What we would change\n\n\n\n## How to adopt it\n\n")
    suffix = f": supporting {other.name}" if side == "partner" else \
        f": support from {other.name}"
    return Fields(title=priority.text[:160 - len(suffix)].rstrip() + suffix,
                  summary=pairing.outcome[:300], school=school.id, family=school.family,
                  authors=user.name,
                  date=dt.date.today().isoformat(), phase=school.phase,
                  evidence_measure=(f"{label} before and since the support: {figures}"
                                    if figures else ""), body=body)
