"""Score fusion over per-document score arrays (pure functions).

A side's scores are a float array with one slot per document and -inf where the side did not
return that document as a candidate.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)


def minmax(scores: np.ndarray) -> np.ndarray:
    """Candidates scaled to 0..1 (all equal -> 1); non-candidates 0."""
    out = np.zeros(scores.shape, dtype=np.float32)
    present = np.isfinite(scores)
    if not present.any():
        return out
    values = scores[present]
    low, high = float(values.min()), float(values.max())
    out[present] = 1.0 if high - low < 1e-12 else (values - low) / (high - low)
    return out


def weighted_fusion(keyword: np.ndarray, dense: np.ndarray, keyword_weight: float,
                    sentences: np.ndarray | None = None, sentence_weight: float = 0.0
                    ) -> np.ndarray:
    """Convex combination of min-max scaled scores; -inf where neither side has a document.

    With `sentences` (each document's best sentence similarity), the meaning side is the
    passage score and the sentence score blended, `sentence_weight` the sentence's share;
    sentences count only for documents one of the two sides found.
    """
    present = np.isfinite(keyword) | np.isfinite(dense)
    meaning = minmax(dense)
    if sentences is not None and sentence_weight:
        meaning = (1 - sentence_weight) * meaning + \
            sentence_weight * minmax(np.where(present, sentences, -np.inf))
    fused = keyword_weight * minmax(keyword) + (1 - keyword_weight) * meaning
    fused[~present] = -np.inf
    return fused


def ranked_slots(scores: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """Candidate slots by descending score, ties by slot; only `among` (a mask) if given."""
    keep = np.isfinite(scores) if among is None else np.isfinite(scores) & among
    slots = np.flatnonzero(keep)
    return slots[np.lexsort((slots, -scores[slots]))]


def rank(scores: Mapping[K, float]) -> list[K]:
    """Keys of a score mapping by descending score; ties broken by key for stable output."""
    return sorted(scores, key=lambda key: (-scores[key], str(key)))
