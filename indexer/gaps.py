"""Knowledge gaps: searches that found nothing convincing, grouped by meaning."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from indexer.embedders.base import Embedder
from kb.state.searchlog import LoggedSearch

GAP_MIN_SCORE = 0.45  # a best similarity below this is not a convincing answer
# The same words searched again within this many minutes (a filter ticked, a page reloaded)
# are one search, not several.
SAME_SEARCH_MINUTES = 30


@dataclass
class GapCluster:
    """Paraphrases of one unmet need, with how often and when it was asked."""

    label: str
    queries: dict[str, int] = field(default_factory=dict)
    count: int = 0
    first_seen: str = ""
    last_seen: str = ""
    centre: np.ndarray | None = None
    answered: str = ""  # how curators answered it ('' while it is open)
    _last: dict[str, dt.datetime] = field(default_factory=dict, repr=False)

    def add(self, search: LoggedSearch, vector: np.ndarray) -> None:
        key = " ".join(search.query.casefold().split())
        at = _when(search.at)
        last = self._last.get(key)
        self._last[key] = at
        self.last_seen = max(self.last_seen, search.at)
        if last is not None and at - last <= dt.timedelta(minutes=SAME_SEARCH_MINUTES):
            return  # the same search again: a filter click or a reload, not a new need
        self.queries[search.query] = self.queries.get(search.query, 0) + 1
        self.centre = vector if self.centre is None else self.centre * self.count + vector
        self.count += 1
        self.centre = self.centre / (np.linalg.norm(self.centre) or 1.0)
        self.first_seen = min(self.first_seen or search.at, search.at)
        self.last_seen = max(self.last_seen, search.at)
        self.label = max(self.queries, key=lambda q: (self.queries[q], -len(q)))


def _when(at: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def is_gap(search: LoggedSearch, min_score: float) -> bool:
    """Nothing found, or nothing convincing (best similarity below min_score)."""
    return search.results == 0 or search.top_score is None or search.top_score < min_score


def find_gaps(searches: Iterable[LoggedSearch], embedder: Embedder,
              min_score: float = GAP_MIN_SCORE,
              same_need: float = 0.5) -> list[GapCluster]:
    """Cluster gap queries greedily by cosine similarity to each cluster's centre."""
    clusters: list[GapCluster] = []
    for search in searches:
        if not search.query.strip() or not is_gap(search, min_score):
            continue
        vector = embedder.encode_query(search.query)
        best, best_sim = None, same_need
        for cluster in clusters:
            sim = float(np.dot(cluster.centre, vector)) if cluster.centre is not None else -1
            if sim >= best_sim:
                best, best_sim = cluster, sim
        if best is None:
            best = GapCluster(search.query)
            clusters.append(best)
        best.add(search, vector)
    return sorted(clusters, key=lambda c: (-c.count, c.label))


def _cell(text: str) -> str:
    # Spreadsheets run cells that start with these as formulas; searches are user input.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gaps_csv(clusters: list[GapCluster]) -> str:
    """The gap list as CSV, safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["need", "searches", "first_seen", "last_seen", "answered",
                     "paraphrases"])
    for c in clusters:
        writer.writerow([_cell(c.label), c.count, c.first_seen, c.last_seen,
                         _cell(c.answered), _cell(" | ".join(sorted(c.queries)))])
    return out.getvalue()
