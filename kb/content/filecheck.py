"""What an uploaded session material really is, judged by its bytes (signatures and container
structure), never by its name or the type a browser declared; pure, no files touched.

Checked here rather than with a sniffing library: the six kinds we take have fixed signatures,
and the dangerous cases (an Office file that is really a password-protected CFB container, a zip
whose entries inflate to gigabytes) need the zip's own directory read before anything is
inflated, which the standard library's zipfile gives directly. Encrypted PDFs are recognised
with pypdf, which reads the trailer's /Encrypt entry properly.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from kb.errors import BadInputError

# A zip inside an Office file may inflate to at most this much in all, and no entry may
# inflate more than MAX_RATIO times its stored size once it is past RATIO_FLOOR bytes; real
# documents stay far below (a 40-slide deck with photos: about 3x, XML parts up to 20x).
MAX_UNZIPPED_BYTES = 200_000_000
MAX_RATIO = 100
RATIO_FLOOR = 1_000_000
MAX_ZIP_ENTRIES = 5_000
# The readers parse a document's XML parts whole, so one part may not exceed this unpacked
# (a 300-page report's document.xml is about 5 MB).
MAX_XML_PART_BYTES = 50_000_000
CFB_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


@dataclass(frozen=True)
class FileKind:
    """One kind of material we take: what teachers call it, its names, how it is served."""

    key: str
    label: str
    extensions: tuple[str, ...]
    media_type: str
    called: str  # the label in a sentence: "a Word document", "PowerPoint slides"


KINDS = {k.key: k for k in (
    FileKind("pdf", "PDF document", (".pdf",), "application/pdf", "a PDF document"),
    FileKind("docx", "Word document", (".docx",),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "a Word document"),
    FileKind("pptx", "PowerPoint slides", (".pptx",),
             "application/vnd.openxmlformats-officedocument.presentationml.presentation",
             "PowerPoint slides"),
    FileKind("odt", "OpenDocument text", (".odt",), "application/vnd.oasis.opendocument.text",
             "an OpenDocument text"),
    FileKind("png", "PNG image", (".png",), "image/png", "a PNG image"),
    FileKind("jpeg", "JPEG image", (".jpg", ".jpeg"), "image/jpeg", "a JPEG image"),
)}
ACCEPTED = "PDF, Word (.docx), PowerPoint (.pptx), OpenDocument text (.odt), PNG or JPEG"


class FileRefused(BadInputError):
    """A material that is not taken; the message names the file and says why in plain words."""


def kind_for_name(name: str) -> FileKind | None:
    """The kind a file's name claims (by its extension), or None."""
    lower = name.lower()
    return next((k for k in KINDS.values() if lower.endswith(k.extensions)), None)


def human_size(size: int) -> str:
    """A size as teachers read it: 840 bytes, 12 KB, 3.4 MB."""
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB"


def check_file(name: str, data: bytes, max_bytes: int) -> FileKind:
    """The kind of `data` if it may be stored under `name`; otherwise FileRefused."""
    claimed = kind_for_name(name)
    if claimed is None:
        raise FileRefused(f"“{name}” is not a kind of file this site takes; upload a "
                          f"{ACCEPTED} file")
    if not data:
        raise FileRefused(f"“{name}” is empty")
    if len(data) > max_bytes:
        raise FileRefused(f"“{name}” is {human_size(len(data))}; files may be up to "
                          f"{human_size(max_bytes)}. Make it smaller (for example, compress "
                          "its pictures) and upload it again")
    found = _sniff(name, data)
    if found is None:
        raise FileRefused(f"“{name}” is named as {claimed.called} but its content is not "
                          f"(nor any other kind this site takes: {ACCEPTED})")
    if found.key != claimed.key:
        raise FileRefused(f"“{name}” is named as {claimed.called} but its content is "
                          f"{found.called}; save it with the ending {found.extensions[0]} and "
                          "upload it again")
    return found


def _sniff(name: str, data: bytes) -> FileKind | None:
    if data.startswith(b"%PDF-"):
        _check_pdf(name, data)
        return KINDS["pdf"]
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return KINDS["png"]
    if data.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if data.startswith(CFB_SIGNATURE):
        if ENCRYPTED_PACKAGE in data:
            raise FileRefused(f"“{name}” is protected by a password; remove the password "
                              "(save an unprotected copy) and upload that")
        raise FileRefused(f"“{name}” is an old-style Office file (.doc, .ppt or .xls); open it "
                          "and save it as .docx or .pptx, then upload that")
    if data.startswith(b"PK\x03\x04"):
        return _office_kind(name, data)
    return None


def _check_pdf(name: str, data: bytes) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        if not encrypted and len(reader.pages) < 1:
            raise FileRefused(f"“{name}” is a PDF with no pages")
    except FileRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError) as exc:
        raise FileRefused(f"“{name}” starts like a PDF but is damaged and cannot be read "
                          f"({type(exc).__name__}); export it again and upload the new copy"
                          ) from None
    if encrypted:
        raise FileRefused(f"“{name}” is an encrypted (password-protected) PDF; save an "
                          "unprotected copy and upload that")


def check_zip_directory(name: str, archive: zipfile.ZipFile) -> None:
    """Refuse a zip whose directory promises too much before any entry is inflated. zipfile
    never inflates an entry past its declared size, so these bounds also bound every read."""
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise FileRefused(f"“{name}” holds {len(entries):,} parts, far more than a document "
                          "has; it was not stored")
    total = sum(e.file_size for e in entries)
    if total > MAX_UNZIPPED_BYTES:
        raise FileRefused(f"“{name}” would unpack to {human_size(total)}, far more than a "
                          "document needs (a “zip bomb”); it was not stored")
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise FileRefused(f"“{name}” is protected by a password; remove the password and "
                              "upload it again")
        if entry.filename.endswith((".xml", ".rels")) and entry.file_size > MAX_XML_PART_BYTES:
            raise FileRefused(f"“{name}” has a text part that unpacks to "
                              f"{human_size(entry.file_size)}, far more than a document needs; "
                              "it was not stored")
        if entry.file_size > RATIO_FLOOR and \
                entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            ratio = entry.file_size // max(entry.compress_size, 1)
            raise FileRefused(f"“{name}” has a part that unpacks {ratio:,} times larger than "
                              "it is stored (a “zip bomb”); it was not stored")


def _office_kind(name: str, data: bytes) -> FileKind | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused(f"“{name}” is damaged: it starts like an Office file but is not a "
                          "complete one. Save it again and upload the new copy") from None
    with archive:
        check_zip_directory(name, archive)
        names = set(archive.namelist())
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return KINDS["docx"]
        if "[Content_Types].xml" in names and "ppt/presentation.xml" in names:
            return KINDS["pptx"]
        if "mimetype" in names and "content.xml" in names:
            try:
                with archive.open("mimetype") as handle:
                    mimetype = handle.read(100).strip()
                manifest = b""
                if "META-INF/manifest.xml" in names:
                    with archive.open("META-INF/manifest.xml") as handle:
                        manifest = handle.read(1_000_000)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError):
                return None
            if mimetype == ODT_MIMETYPE:
                if b"encryption-data" in manifest:
                    raise FileRefused(f"“{name}” is protected by a password; save an "
                                      "unprotected copy and upload that")
                return KINDS["odt"]
    return None
