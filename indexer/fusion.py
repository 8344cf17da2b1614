"""Score fusion: combining keyword and semantic evidence into one ranking (pure functions)."""

from __future__ import annotations

from typing import Hashable, Mapping, Sequence, TypeVar

K = TypeVar("K", bound=Hashable)


def minmax(scores: Mapping[K, float]) -> dict[K, float]:
    """Scale scores to 0..1 (all equal -> all 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-12:
        return {k: 1.0 for k in scores}
    return {k: (v - low) / (high - low) for k, v in scores.items()}


def zscore(scores: Mapping[K, float], depth: int = 0) -> dict[K, float]:
    """Standardise scores by the mean and spread of the top `depth` (all when 0)."""
    if not scores:
        return {}
    values = sorted(scores.values(), reverse=True)
    head = values[:depth] if depth else values
    mean = sum(head) / len(head)
    spread = (sum((v - mean) ** 2 for v in head) / len(head)) ** 0.5 or 1.0
    return {k: (v - mean) / spread for k, v in scores.items()}


def minmax_top(scores: Mapping[K, float], depth: int) -> dict[K, float]:
    """Min-max scaling where the floor is the depth-th best score (deeper ones clip to 0)."""
    if not scores or depth <= 0:
        return minmax(scores)
    values = sorted(scores.values(), reverse=True)
    low, high = values[min(depth, len(values)) - 1], values[0]
    if high - low < 1e-12:
        return {k: 1.0 if v >= high else 0.0 for k, v in scores.items()}
    return {k: max(0.0, (v - low) / (high - low)) for k, v in scores.items()}


def weighted_fusion(keyword: Mapping[K, float], dense: Mapping[K, float],
                    keyword_weight: float, depth: int = 0) -> dict[K, float]:
    """Convex combination of min-max normalised scores; a side that misses a key adds 0.

    With depth, each side is scaled between its best and its depth-th best score, so a long
    tail of weak candidates does not squash the differences that matter at the top.
    """
    kw, dn = minmax_top(keyword, depth), minmax_top(dense, depth)
    out: dict[K, float] = {}
    for key in set(kw) | set(dn):
        out[key] = keyword_weight * kw.get(key, 0.0) + (1 - keyword_weight) * dn.get(key, 0.0)
    return out


def reciprocal_rank_fusion(rankings: Sequence[Sequence[K]], k: int = 60,
                           weights: Sequence[float] | None = None) -> dict[K, float]:
    """Classic RRF: sum of weight / (k + rank) over the rankings a key appears in."""
    weights = weights or [1.0] * len(rankings)
    out: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, key in enumerate(ranking, start=1):
            out[key] = out.get(key, 0.0) + weight / (k + rank)
    return out


def rank(scores: Mapping[K, float]) -> list[K]:
    """Keys by descending score; ties broken by key for stable output."""
    return sorted(scores, key=lambda key: (-scores[key], str(key)))
