"""Knowledge gaps: the searches of the last days that found nothing convincing (kb's search
log), grouped by meaning with the search model (indexer's), for the web page, its CSV and
`kb gaps`."""

from __future__ import annotations

import datetime as dt

from indexer.embedders.base import Embedder
from indexer.gaps import GAP_MIN_SCORE, GapCluster, find_gaps, gaps_csv, is_gap
from kb.state.database import StateStore
from kb.state.searchlog import LoggedSearch, recent_searches

__all__ = ["GAP_MIN_SCORE", "GapCluster", "gaps_csv", "is_unmet", "recent_gaps"]


def recent_gaps(state: StateStore, embedder: Embedder, days: int,
                today: dt.date | None = None) -> list[GapCluster]:
    """Unmet needs of the last `days` days, most asked first."""
    since = ((today or dt.date.today()) - dt.timedelta(days=days)).isoformat()
    return find_gaps(recent_searches(state, since), embedder, GAP_MIN_SCORE)


def is_unmet(search: LoggedSearch) -> bool:
    """A search with words that found nothing convincing (what the gap list counts)."""
    return bool(search.query.strip()) and is_gap(search, GAP_MIN_SCORE)
