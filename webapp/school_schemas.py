"""The JSON shapes of school data: context, schools like this one, triage rows and priorities."""

from __future__ import annotations

from pydantic import BaseModel, Field

from webapp.schemas import Writeup


class Context(BaseModel):
    pupils: int
    disadvantaged_pct: float
    eal_pct: float
    send_pct: float
    setting: str = Field(description="rural or urban")
    inspection_grade: str


class SimilarSchool(BaseModel):
    school: str
    name: str
    url: str
    phase: str
    distance: float = Field(description="the distance over standardised context (see `rule`)")
    reason: str = Field(description="why it is similar, in words")
    writeups: list[Writeup]


class SchoolProfile(BaseModel):
    """A school, its context and the schools most like it."""

    school: str
    name: str
    phase: str
    family: str
    context: Context | None
    similar: list[SimilarSchool]
    rule: str = Field(description="how similarity is measured")


class TriageCell(BaseModel):
    indicator: str
    label: str
    year: int
    value: float
    change: float | None = Field(description="latest minus the year before")
    similar_average: float | None = Field(description="the similar schools' average that year")
    gap: float | None = Field(description="value minus similar_average")
    better_than_similar: bool | None
    flagged: bool
    series: dict[str, float] = Field(description="academic year (2023/24) -> value")


class TriageRow(BaseModel):
    school: str
    name: str
    url: str
    phase: str
    family: str
    similar_schools: list[str]
    flags: list[str]
    cells: list[TriageCell]


class TriageResponse(BaseModel):
    """Schools with their indicators, as the triage page shows them."""

    rule: str
    total: int = Field(description="schools before filtering")
    filters: dict[str, str]
    rows: list[TriageRow]


class PriorityOut(BaseModel):
    id: int
    url: str
    school: str
    text: str
    indicator: str
    author: str
    status: str
    created_at: str


class PartnerOut(BaseModel):
    school: str
    name: str
    url: str
    score: float
    offer_kind: str
    offer: str
    offer_match: float = Field(description="cosine similarity of the priority and the offer")
    results: float | None = Field(description="rank on the indicator among its phase, best 1")
    value: float | None
    context: float = Field(description="1 / (1 + context distance), same phase only")
    reason: str


class CollectionSuggestion(BaseModel):
    slug: str
    url: str
    title: str
    match: float
    includes: list[str] = Field(description="suggested write-ups this collection contains")


class PriorityDetail(PriorityOut):
    """A priority and what the product suggests for it."""

    writeups: list[Writeup]
    collections: list[CollectionSuggestion]
    partners: list[PartnerOut]
    ranking_rule: str


class Milestone(BaseModel):
    due: str
    what: str


class PairingOut(BaseModel):
    """A brokered pairing: who supports whom on which priority, the plan and its progress."""

    id: int
    url: str
    priority: int
    school: str
    partner: str
    status: str
    proposal: str
    proposed_by: str
    school_accepted: bool
    partner_accepted: bool
    goal: str
    milestones: list[Milestone]
    review_on: str
    outcome: str
    start_year: str
    notes: list[dict[str, str]]
    trend: list[dict[str, str | float]] = Field(
        description="the supported school's indicator: year, value, before or since")


class CountRow(BaseModel):
    key: str
    label: str
    count: int


class SupportWriteupOut(BaseModel):
    """A published write-up that came out of a brokered pairing."""

    slug: str
    title: str
    url: str
    api: str
    pairing: int
    pairing_url: str
    school: str
    partner: str
    published_at: str


class PartnershipOut(BaseModel):
    """The partnership overview's lists, as the page's tables show them."""

    priorities_open: int
    priorities_closed: int
    by_indicator: list[CountRow] = Field(description="open priorities per indicator")
    by_state: list[CountRow] = Field(description="pairings per state")
    reviewed: list[str] = Field(description="the reviewed pairings, as API addresses")
    schools_supported: int
    schools_supporting: int
    writeups_from_support: int = Field(description="published write-ups that came out of a "
                                       "pairing (written up from its review)")
    writeups: list[SupportWriteupOut] = Field(description="those write-ups, oldest first")
