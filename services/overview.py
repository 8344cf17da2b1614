"""The partnership overview for challenge leads: priorities, pairings by state and outcomes,
counted from the application database (services over kb.workflows)."""

from __future__ import annotations

from dataclasses import dataclass

from kb.state.accounts import User
from kb.state.schooldata import INDICATORS
from kb.workflows import pairings, priorities
from kb.workflows.pairings import STATUS_LABELS
from services.runtime import Services


@dataclass(frozen=True)
class Overview:
    priorities_open: int
    priorities_closed: int
    by_indicator: list[tuple[str, str, int]]  # (indicator id, label, open priorities)
    by_state: list[tuple[str, str, int]]  # (state, label, pairings)
    reviewed: list[pairings.Pairing]
    schools_supported: int
    schools_supporting: int


def overview(services: Services, user: User) -> Overview:
    """Counts over everything the user may see (all of it for a challenge lead)."""
    found = priorities.visible(services.state, user)
    paired = pairings.visible(services.state, user)
    open_ = [p for p in found if p.status == "open"]
    by_indicator = [(i.id, i.label, sum(1 for p in open_ if p.indicator == i.id))
                    for i in INDICATORS.values()]
    by_indicator.append(("", "No indicator", sum(1 for p in open_ if not p.indicator)))
    by_state = [(s, label, sum(1 for p in paired if p.status == s))
                for s, label in STATUS_LABELS.items()]
    live = [p for p in paired if p.status in ("agreed", "reviewed")]
    return Overview(len(open_), len(found) - len(open_), by_indicator, by_state,
                    [p for p in paired if p.status == "reviewed"],
                    len({p.school for p in live}), len({p.partner for p in live}))
