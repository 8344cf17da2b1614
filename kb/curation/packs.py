"""The packs of a collection (pure): the Markdown zip with a cover file, one file per write-up
and the session materials; and the PDF pack with the materials' PDFs appended (pypdf)."""

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


@dataclass(frozen=True)
class PackAttachment:
    """A session material in a pack: listed with its link, its bytes copied (zip) or its
    pages appended (PDF)."""

    name: str
    description: str  # "Word document, 24 KB"
    url: str  # full address, for paper
    kind: str
    data: bytes


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
                   taxonomy: Taxonomy, site_url: str,
                   attachments: tuple[PackAttachment, ...] = ()) -> str:
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
    if attachments:
        lines += ["", "## Session materials", ""]
        lines += [f"- {a.name} ({a.description}): `materials/{a.name}`, {a.url}"
                  for a in attachments]
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
               taxonomy: Taxonomy, site_url: str,
               attachments: tuple[PackAttachment, ...] = ()) -> list[PackFile]:
    """The text files of the Markdown pack, in reading order."""
    files = [PackFile("00-session.md", cover_markdown(collection, items, taxonomy, site_url,
                                                      attachments))]
    for position, (item, doc) in enumerate(items, start=1):
        files.append(PackFile(item_file_name(position, item),
                              item_markdown(position, item, doc, taxonomy, site_url)))
    return files


def markdown_zip(collection: Collection, items: list[tuple[CollectionItem, Document]],
                 taxonomy: Taxonomy, site_url: str,
                 attachments: tuple[PackAttachment, ...] = ()) -> bytes:
    """A zip of the pack under one folder named after the collection, the session materials
    in its materials/ folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = [(f.name, f.text.encode("utf-8"))
                   for f in pack_files(collection, items, taxonomy, site_url, attachments)]
        entries += [(f"materials/{a.name}", a.data) for a in attachments]
        for name, data in dict(entries).items():  # a name twice (two write-ups): keep one
            info = zipfile.ZipInfo(f"{collection.slug}/{name}", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def append_pdfs(pack: bytes, attachments: tuple[PackAttachment, ...]) -> tuple[bytes, list[str]]:
    """The pack PDF with every PDF material's pages after it, in order; also the names of any
    that could not be appended (left out, never failing the pack)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    pdfs = [a for a in attachments if a.kind == "pdf"]
    if not pdfs:
        return pack, []
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pack)))
    skipped = []
    for attachment in pdfs:
        try:
            reader = PdfReader(io.BytesIO(attachment.data), strict=False)
            if reader.is_encrypted:
                raise ValueError("encrypted")
            writer.append(reader)
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            skipped.append(attachment.name)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), skipped
