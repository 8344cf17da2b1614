"""Counts of write-ups by tag, straight from the validated files."""

from __future__ import annotations

from collections import Counter

from kb.content.documents import Document
from kb.content.taxonomy import TAG_FIELDS


def count_by_tag(documents: list[Document]) -> dict[str, Counter[str]]:
    """field -> Counter(term id -> number of write-ups carrying it)."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in TAG_FIELDS}
    counts["family"] = Counter()
    counts["year"] = Counter()
    for doc in documents:
        for name in TAG_FIELDS:
            counts[name].update(doc.tags(name))
        counts["family"][doc.family] += 1
        counts["year"][str(doc.year)] += 1
    return counts
