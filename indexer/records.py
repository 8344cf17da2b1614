"""The indexer's own view of a document: what gets chunked, stored, filtered and shown."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from kb.content.documents import Document
from kb.content.taxonomy import TAG_FIELDS

# Every field a search can filter on: the taxonomy tag fields plus school, family and year.
FILTER_FIELDS = TAG_FIELDS + ("school", "family", "year")
# The singular parameter name users type for each filter field (URLs and CLI flags).
FILTER_PARAMS = {
    "subject": "subjects",
    "intervention": "interventions",
    "phase": "phase",
    "key_stage": "key_stages",
    "pupil_group": "pupil_groups",
    "evidence": "evidence_strength",
    "school": "school",
    "family": "family",
    "year": "year",
}


@dataclass(frozen=True)
class IndexDoc:
    """A document ready to index: text to search, tags to filter, metadata to display."""

    slug: str
    title: str
    summary: str
    body: str
    content_hash: str
    date: str = ""
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def from_document(doc: Document) -> IndexDoc:
    """Convert a kb Document into the record the indexer stores."""
    tags = {name: doc.tags(name) for name in TAG_FIELDS}
    tags.update(school=(doc.school,), family=(doc.family,), year=(str(doc.year),))
    meta = {
        "path": doc.path,
        "school_name": doc.school_name,
        "family_name": doc.family_name,
        "authors": list(doc.authors),
        "evidence_measure": doc.evidence_measure,
        "status": doc.status,
        "review_due": doc.review_due.isoformat(),
    }
    return IndexDoc(doc.slug, doc.title, doc.summary, doc.body, doc.content_hash,
                    doc.date.isoformat(), tags, meta)


def plain_doc(slug: str, title: str, text: str) -> IndexDoc:
    """A document with no metadata (benchmark corpora)."""
    digest = hashlib.sha256(json.dumps([title, text]).encode()).hexdigest()
    return IndexDoc(slug, title, "", text, digest)
