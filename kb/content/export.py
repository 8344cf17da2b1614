"""The whole library as an open download: every published write-up's Markdown file and one
JSON Lines file (a write-up a line, with its tags), under a stated open licence."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from kb.content.documents import Document
from kb.content.library import Library

LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
TAG_FIELDS = ("phase", "key_stages", "subjects", "interventions", "pupil_groups")
JSONL_NAME = "writeups.jsonl"
# A fixed time inside the zip, so the same library always gives the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

NOTICE = f"""Westmoor practice library: every published write-up

The write-ups in this download are shared under the Creative Commons Attribution 4.0
International licence ({LICENCE}): {LICENCE_URL}

You may copy, share and adapt them for any purpose, including commercially, as long as you
credit the school and the authors named in each write-up, link to the licence and say if you
changed anything.

Contents
- practice/<slug>.md: each write-up as its Markdown file (YAML front matter, then the body).
- {JSONL_NAME}: one JSON object a line, one line a write-up, with its tags (ids and labels),
  evidence, dates and body.
"""


def record_of(doc: Document, library: Library) -> dict[str, Any]:
    """One write-up as a plain JSON object, tags as ids with their labels."""
    taxonomy = library.taxonomy
    tags = {name: [{"id": tag, "label": taxonomy.label(name, tag)} for tag in doc.tags(name)]
            for name in TAG_FIELDS}
    return {
        "slug": doc.slug, "title": doc.title, "summary": doc.summary,
        "school": {"id": doc.school, "name": doc.school_name},
        "family": {"id": doc.family, "name": doc.family_name},
        "authors": list(doc.authors), "date": doc.date.isoformat(),
        "review_due": doc.review_due.isoformat(), "tags": tags,
        "evidence": {"strength": doc.evidence_strength,
                     "strength_label": taxonomy.label("evidence_strength",
                                                      doc.evidence_strength),
                     "measure": doc.evidence_measure},
        "licence": LICENCE, "body": doc.body,
    }


def library_jsonl(library: Library) -> str:
    """Every published write-up, one JSON object a line, in slug order."""
    docs = sorted(library.published(), key=lambda d: d.slug)
    return "".join(json.dumps(record_of(d, library), ensure_ascii=False) + "\n" for d in docs)


def library_zip(library: Library, practice_dir: Path) -> bytes:
    """A zip of the published Markdown files, the JSON Lines file and the licence notice."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        def add(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)

        add("README.txt", NOTICE.encode("utf-8"))
        add(JSONL_NAME, library_jsonl(library).encode("utf-8"))
        for doc in sorted(library.published(), key=lambda d: d.slug):
            add(f"practice/{doc.slug}.md", (practice_dir / f"{doc.slug}.md").read_bytes())
    return buffer.getvalue()
