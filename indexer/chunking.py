"""Splits a document into passages (summary, then one or more per section) for indexing."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.records import IndexDoc
from kb.content.markdown import split_sections

MAX_WORDS = 160
OVERLAP_WORDS = 30
PROFILE_HEADING = "What it is about"
# The heading of a passage from an attached file is this prefix and the file's name; the
# anchor points at the write-up page's list of files.
ATTACHMENT_PREFIX = "Attached file: "
ATTACHMENT_ANCHOR = "materials"


def attachment_name(heading: str) -> str:
    """The file name a passage heading names, or '' when it is not an attachment's passage."""
    return heading[len(ATTACHMENT_PREFIX):] if heading.startswith(ATTACHMENT_PREFIX) else ""


@dataclass(frozen=True)
class Chunk:
    """One passage of a document. embed_text carries the title for context."""

    position: int
    heading: str
    anchor: str
    text: str

    def embed_text(self, title: str) -> str:
        if self.heading and self.heading != title:
            return f"{title}. {self.heading}: {self.text}"
        return f"{title}. {self.text}" if title else self.text


def _windows(words: list[str], size: int, overlap: int) -> list[list[str]]:
    if len(words) <= size:
        return [words]
    step = max(1, size - overlap)
    out = []
    for start in range(0, len(words), step):
        out.append(words[start:start + size])
        if start + size >= len(words):
            break
    return out


def chunk_document(doc: IndexDoc, max_words: int = MAX_WORDS,
                   overlap: int = OVERLAP_WORDS) -> list[Chunk]:
    """Summary first (if any), then each section, long sections cut into overlapping windows;
    then the attached files' text in windows, and the profile passage last."""
    chunks: list[Chunk] = []
    if doc.summary:
        chunks.append(Chunk(0, "Summary", "", doc.summary))
    for section in split_sections(doc.body, intro_heading="" if doc.summary else doc.title):
        for window in _windows(section.text.split(), max_words, overlap):
            chunks.append(Chunk(len(chunks), section.heading, section.anchor, " ".join(window)))
    if not chunks:
        chunks.append(Chunk(0, "", "", doc.title))
    for name, text in doc.attachments:
        for window in _windows(text.split(), max_words, overlap):
            chunks.append(Chunk(len(chunks), ATTACHMENT_PREFIX + name, ATTACHMENT_ANCHOR,
                                " ".join(window)))
    if doc.profile:  # last, so the other passages keep their positions
        chunks.append(Chunk(len(chunks), PROFILE_HEADING, "", doc.profile))
    return chunks
