"""The words inside a session material (PDF, Word, PowerPoint, OpenDocument text), so search
can find a worksheet by what it says; pure, bounded in characters, pages and time.

pypdf, python-docx and python-pptx are well-kept readers of their formats (their XML parsers do
not resolve entities). ODT needs no library: its text is in content.xml, read with the standard
library after refusing any DOCTYPE (so no entity expansion can happen). Images have no text.
Call only on bytes kb.content.filecheck accepted: its zip bounds make every read here bounded.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree

from kb.errors import BadInputError

MAX_TEXT_CHARS = 100_000
MAX_PDF_PAGES = 300
MAX_SECONDS = 20.0
ODT_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


class UnreadableMaterial(BadInputError):
    """A material whose text cannot be read; the message names the file."""


def extract_text(name: str, kind: str, data: bytes, max_chars: int = MAX_TEXT_CHARS,
                 max_seconds: float = MAX_SECONDS) -> str:
    """The text of a material (at most `max_chars`), paragraphs on their own lines."""
    readers = {"pdf": _pdf, "docx": _docx, "pptx": _pptx, "odt": _odt}
    if kind not in readers:
        return ""
    deadline = time.monotonic() + max_seconds
    parts: list[str] = []
    size = 0
    try:
        for piece in readers[kind](data):
            piece = " ".join(piece.split())
            if piece:
                parts.append(piece)
                size += len(piece) + 1
            if size >= max_chars or time.monotonic() > deadline:
                break
    except UnreadableMaterial:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a reader means "unreadable"
        raise UnreadableMaterial(f"“{name}” could not be read as a {kind.upper()} file "
                                 f"({type(exc).__name__}: {str(exc)[:120]})") from None
    return "\n".join(parts)[:max_chars]


def _pdf(data: bytes) -> Iterator[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    for number, page in enumerate(reader.pages):
        if number >= MAX_PDF_PAGES:
            return
        yield page.extract_text() or ""


def _docx(data: bytes) -> Iterator[str]:
    import docx

    document = docx.Document(io.BytesIO(data))
    for paragraph in document.paragraphs:
        yield paragraph.text
    for table in document.tables:
        for row in table.rows:
            yield " ".join(cell.text for cell in row.cells)


def _pptx(data: bytes) -> Iterator[str]:
    from pptx import Presentation

    deck = Presentation(io.BytesIO(data))
    for slide in deck.slides:
        for shape in slide.shapes:
            if getattr(shape, "has_text_frame", False):
                yield shape.text_frame.text
            if getattr(shape, "has_table", False):
                for row in shape.table.rows:
                    yield " ".join(cell.text for cell in row.cells)
        if slide.has_notes_slide:
            yield slide.notes_slide.notes_text_frame.text


def _odt(data: bytes) -> Iterator[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        with archive.open("content.xml") as handle:
            xml = handle.read()
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise ValueError("content.xml declares a DOCTYPE, which OpenDocument files never do")
    root = ElementTree.fromstring(xml)
    for element in root.iter():
        if element.tag in (f"{ODT_TEXT}p", f"{ODT_TEXT}h"):
            yield "".join(element.itertext())
