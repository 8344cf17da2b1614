"""Knowledge gaps: the searches of the last days that found nothing convincing (kb's search
log), grouped by meaning with the search model (indexer's), for the web page, its CSV and
`kb gaps`."""

from __future__ import annotations

import datetime as dt

from indexer.embedders.base import Embedder
from indexer.gaps import GAP_MIN_SCORE, GapCluster, find_gaps, gaps_csv, is_gap
from kb.curation.search_tuning import SearchTuning, normalise_query
from kb.state.database import StateStore
from kb.state.searchlog import LoggedSearch, recent_searches

__all__ = ["GAP_MIN_SCORE", "GapCluster", "answered_by", "gaps_csv", "is_unmet", "recent_gaps"]


def recent_gaps(state: StateStore, embedder: Embedder, days: int,
                today: dt.date | None = None,
                tuning: SearchTuning | None = None) -> list[GapCluster]:
    """Unmet needs of the last `days` days, most asked first; with the curators' search
    tuning, each says whether a best bet or a taught phrase now answers it."""
    since = ((today or dt.date.today()) - dt.timedelta(days=days)).isoformat()
    clusters = find_gaps(recent_searches(state, since), embedder, GAP_MIN_SCORE)
    for cluster in clusters if tuning else []:
        cluster.answered = answered_by(cluster, tuning)
    return clusters


def answered_by(cluster: GapCluster, tuning: SearchTuning) -> str:
    """'best bet: ...' or 'phrase: ...' when curators have answered one of the cluster's
    searches, '' while it is still open."""
    asked = [normalise_query(q) for q in cluster.queries]
    for bet in tuning.best_bets:
        if bet.key in asked:
            return f"best bet: {bet.kind} {bet.slug}"
    for alias in tuning.aliases:
        phrase = f" {normalise_query(alias.phrase)} "
        if any(phrase in f" {q} " for q in asked):
            return f"phrase: {alias.phrase}"
    return ""


def is_unmet(search: LoggedSearch) -> bool:
    """A search with words that found nothing convincing (what the gap list counts)."""
    return bool(search.query.strip()) and is_gap(search, GAP_MIN_SCORE)
