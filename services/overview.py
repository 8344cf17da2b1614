"""The partnership overview for challenge leads: priorities, pairings by state and outcomes,
counted from the application database (services over kb.workflows)."""

from __future__ import annotations

from dataclasses import dataclass

from kb.state.accounts import User
from kb.state.schooldata import INDICATORS
from kb.workflows import pairings, priorities
from kb.workflows.pairings import STATUS_LABELS
from kb.workflows.publishing import practice_path
from kb.workflows.submissions import published_from_pairings
from services.runtime import Services


@dataclass(frozen=True)
class SupportWriteup:
    """A published write-up that came out of a brokered pairing."""

    slug: str
    title: str
    pairing_id: int
    school: str  # the supported school's id
    partner: str
    published_at: str


@dataclass(frozen=True)
class Overview:
    priorities_open: int
    priorities_closed: int
    by_indicator: list[tuple[str, str, int]]  # (indicator id, label, open priorities)
    by_state: list[tuple[str, str, int]]  # (state, label, pairings)
    reviewed: list[pairings.Pairing]
    schools_supported: int
    schools_supporting: int
    writeups: list[SupportWriteup]


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
                    len({p.school for p in live}), len({p.partner for p in live}),
                    support_writeups(services, {p.id: p for p in paired}))


def support_writeups(services: Services, seen: dict[int, pairings.Pairing]
                     ) -> list[SupportWriteup]:
    """Write-ups approved from a pairing the user may see and still published (a write-up
    since taken down is not counted)."""
    out = []
    for sub in published_from_pairings(services.state):
        pairing = seen.get(sub.pairing_id or 0)
        if pairing is None or not practice_path(services.settings.practice_dir,
                                                sub.slug).exists():
            continue
        out.append(SupportWriteup(sub.slug, sub.title, pairing.id, pairing.school,
                                  pairing.partner, sub.reviewed_at))
    return out
