"""Keeping the library fresh: write-ups due for review, and the monthly counts behind the CPD
leads' dashboard (published write-ups by approval date; searches, gaps, support and
transfer reports from the application database)."""

from __future__ import annotations

import datetime as dt

from indexer.store import StoredDoc
from kb.state.searchlog import recent_searches, searches_per_month
from kb.workflows import support, transfer
from kb.workflows.revisions import first_approvals
from services.gaps import is_unmet
from services.runtime import Services

# The dashboard's series in the order it shows them: key and title.
SERIES = (("published", "Write-ups published (by approval date)"), ("searches", "Searches"),
          ("gaps", "Searches that found nothing convincing"),
          ("support", "Support requests"), ("transfers", "“We tried this too” reports"))


def last_months(count: int, today: dt.date | None = None) -> list[str]:
    """The `count` months up to and including this one, oldest first, as YYYY-MM."""
    today = today or dt.date.today()
    year, month, out = today.year, today.month, []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def due_for_review(services: Services, within: int,
                   today: dt.date | None = None) -> list[tuple[str, StoredDoc]]:
    """Published write-ups overdue or due for review within `within` days, soonest first,
    as (review date, write-up) pairs."""
    horizon = (today or dt.date.today()) + dt.timedelta(days=max(0, min(within, 3650)))
    return sorted(((d.meta.get("review_due", ""), d) for d in services.engine.documents()
                   if d.meta.get("review_due") and
                   dt.date.fromisoformat(d.meta["review_due"]) <= horizon),
                  key=lambda pair: (pair[0], pair[1].title))


def monthly_counts(services: Services, months: list[str]) -> dict[str, dict[str, int]]:
    """Each series of SERIES as counts per YYYY-MM (gaps only from `months[0]` on)."""
    # A write-up counts in the month a moderator approved it; one that came in as a file,
    # never through review, in the month of its own date.
    approved = first_approvals(services.state)
    published: dict[str, int] = {}
    for doc in services.engine.documents():
        month = approved.get(doc.slug, doc.date)[:7]
        published[month] = published.get(month, 0) + 1
    gaps: dict[str, int] = {}
    for search in recent_searches(services.state, since=months[0]):
        if is_unmet(search):
            gaps[search.at[:7]] = gaps.get(search.at[:7], 0) + 1
    return {"published": published, "searches": searches_per_month(services.state),
            "gaps": gaps, "support": support.per_month(services.state),
            "transfers": transfer.per_month(services.state)}
