"""The Markdown pack of a collection: a zip with a cover file and one file per write-up (pure)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from kb.content.documents import Document
from kb.content.taxonomy import Taxonomy
from kb.curation.collection import Collection, CollectionItem

# Fixed timestamps make the same collection give the same bytes (cacheable, testable).
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
FENCE_RE = re.compile(r"^\s*(```|~~~)")
HEADING_RE = re.compile(r"^(#{1,5})(\s)")


@dataclass(frozen=True)
class PackFile:
    name: str
    text: str


def demote_headings(markdown: str, levels: int = 1) -> str:
    """Push every heading down a level (## -> ###), leaving fenced code alone."""
    out, fenced = [], False
    for line in markdown.split("\n"):
        if FENCE_RE.match(line):
            fenced = not fenced
        elif not fenced:
            line = HEADING_RE.sub(lambda m: m.group(1) + "#" * levels + m.group(2), line)
        out.append(line)
    return "\n".join(out)


def _audience(collection: Collection, taxonomy: Taxonomy) -> str:
    subjects = ", ".join(taxonomy.label("subjects", s) for s in collection.subjects)
    phases = ", ".join(taxonomy.label("phase", p) for p in collection.phases)
    return f"{subjects} ({phases})"


def item_file_name(position: int, item: CollectionItem) -> str:
    return f"{position:02d}-{item.writeup}.md"


def cover_markdown(collection: Collection, items: list[tuple[CollectionItem, Document]],
                   taxonomy: Taxonomy, site_url: str) -> str:
    """The first file: purpose, audience, the timed session plan, introduction and contents."""
    lines = [f"# {collection.title}", "", collection.purpose, "",
             f"- **Audience:** {_audience(collection, taxonomy)}",
             f"- **Session length:** {collection.minutes} minutes"]
    if collection.curator:
        lines.append(f"- **Curated by:** {collection.curator}")
    lines += [f"- **Online:** {site_url}/collections/{collection.slug}", "",
              "## Session plan", "", "| Minutes | Activity |", "| ---: | --- |"]
    lines += [f"| {s.minutes} | {s.activity.replace('|', '/')} |" for s in collection.plan]
    lines += ["", "## Introduction", "", demote_headings(collection.body.strip()), "",
              "## The write-ups", ""]
    for position, (item, doc) in enumerate(items, start=1):
        lines.append(f"{position}. {doc.title} ({doc.school_name}): "
                     f"`{item_file_name(position, item)}`, {site_url}/practice/{doc.slug}")
    return "\n".join(lines).rstrip() + "\n"


def item_markdown(position: int, item: CollectionItem, doc: Document, taxonomy: Taxonomy,
                  site_url: str) -> str:
    """One write-up in full, preceded by the curator's note on it."""
    strength = taxonomy.label("evidence_strength", doc.evidence_strength)
    lines = [f"# {position}. {doc.title}", "",
             f"{doc.school_name}, {doc.family_name}. {', '.join(doc.authors)}, "
             f"{doc.date.isoformat()}.", "", f"Online: {site_url}/practice/{doc.slug}", ""]
    if item.why:
        lines += ["## Why it is in this collection", "", item.why, ""]
    if item.questions:
        lines += ["## Questions to discuss", ""]
        lines += [f"{n}. {q}" for n, q in enumerate(item.questions, start=1)] + [""]
    if item.task:
        lines += ["## A task to try", "", item.task, ""]
    lines += ["---", "", "## The write-up", "", f"**Summary.** {doc.summary}", "",
              f"**Evidence ({strength}).** {doc.evidence_measure}", "",
              demote_headings(doc.body.strip())]
    return "\n".join(lines).rstrip() + "\n"


def pack_files(collection: Collection, items: list[tuple[CollectionItem, Document]],
               taxonomy: Taxonomy, site_url: str) -> list[PackFile]:
    """The files of the Markdown pack, in reading order."""
    files = [PackFile("00-session.md", cover_markdown(collection, items, taxonomy, site_url))]
    for position, (item, doc) in enumerate(items, start=1):
        files.append(PackFile(item_file_name(position, item),
                              item_markdown(position, item, doc, taxonomy, site_url)))
    return files


def markdown_zip(collection: Collection, items: list[tuple[CollectionItem, Document]],
                 taxonomy: Taxonomy, site_url: str) -> bytes:
    """A zip of the pack under one folder named after the collection."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in pack_files(collection, items, taxonomy, site_url):
            info = zipfile.ZipInfo(f"{collection.slug}/{file.name}", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, file.text.encode("utf-8"))
    return buffer.getvalue()
