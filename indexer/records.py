"""The indexer's own view of a document: what gets chunked, stored, filtered and shown."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from kb.content.documents import Document
from kb.content.taxonomy import TAG_FIELDS, Taxonomy

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
    # What the write-up is about in the taxonomy's words (labels and descriptions of its
    # tags): embedded as one more passage, so "kicking off" finds a write-up tagged Behaviour
    # whose body says "disruption".
    profile: str = ""
    # The readable text of the write-up's session materials, as (file name, text): extra
    # passages of the write-up, so a word only in its worksheet still finds it.
    attachments: tuple[tuple[str, str], ...] = ()


# The tags whose words describe what a write-up is about (not when, where or how strong).
PROFILE_FIELDS = ("subjects", "interventions", "phase", "pupil_groups")


def tag_glossary(taxonomy: Taxonomy) -> dict[tuple[str, str], str]:
    """Each term of the profile fields in a few words: its label and description. Aliases are
    left to query expansion: with the first eight of them in the passage the teacher queries
    scored lower (MRR@10 0.876 vs 0.888), and an alias change re-embedded every write-up
    tagged with the term."""
    out = {}
    for field_name in PROFILE_FIELDS:
        for term in taxonomy.for_field(field_name).terms:
            said = "; ".join(term.phrases)
            out[(field_name, term.id)] = term.label + (f": {term.description}"
                                                       if term.description else "") + \
                (f" ({said})" if said else "")
    return out


def profile_text(tags: dict[str, tuple[str, ...]], glossary: dict[tuple[str, str], str]) -> str:
    """The document-level passage text for these tags ('' when no glossary entry applies)."""
    parts = [glossary[(f, v)] for f in PROFILE_FIELDS for v in tags.get(f, ())
             if (f, v) in glossary]
    return ". ".join(parts)


def from_document(doc: Document, glossary: dict[tuple[str, str], str] | None = None,
                  attachments: tuple[tuple[str, str], ...] = ()) -> IndexDoc:
    """Convert a kb Document into the record the indexer stores; with a tag glossary it also
    gets its profile passage, with attachments their passages (and a content hash that
    changes when either does)."""
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
    profile = profile_text(tags, glossary or {})
    digest = doc.content_hash if not profile else \
        hashlib.sha256(f"{doc.content_hash}\n{profile}".encode()).hexdigest()
    if attachments:
        digest = hashlib.sha256(json.dumps([digest, attachments]).encode()).hexdigest()
    return IndexDoc(doc.slug, doc.title, doc.summary, doc.body, digest,
                    doc.date.isoformat(), tags, meta, profile, attachments)


def plain_doc(slug: str, title: str, text: str) -> IndexDoc:
    """A document with no metadata (benchmark corpora)."""
    digest = hashlib.sha256(json.dumps([title, text]).encode()).hexdigest()
    return IndexDoc(slug, title, "", text, digest)
