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


def weighted_fusion(keyword: Mapping[K, float], dense: Mapping[K, float],
                    keyword_weight: float) -> dict[K, float]:
    """Convex combination of min-max normalised scores; a side that misses a key adds 0."""
    kw, dn = minmax(keyword), minmax(dense)
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
