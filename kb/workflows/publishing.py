"""Writing approved write-ups into content/practice/: safe paths and crash-safe replacement."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path

from kb.content.documents import SLUG_RE
from kb.errors import BadInputError


def check_slug(slug: str) -> str:
    """Return the slug when it is a plain file name stem; otherwise raise BadInputError.

    Only lower-case ASCII letters, digits and inner hyphens pass, so '../', absolute paths,
    encoded separators, trailing newlines and Unicode look-alikes are all refused.
    """
    if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug) or not slug.isascii():
        shown = unicodedata.normalize("NFKC", str(slug))[:80]
        raise BadInputError(f"slug {shown!r} is not allowed: use 1 to 80 lower-case letters, "
                            "digits and hyphens (no spaces, dots or slashes)")
    return slug


def practice_path(practice_dir: Path, slug: str) -> Path:
    """content/practice/<slug>.md, refusing any slug whose path would leave that folder."""
    check_slug(slug)
    root = practice_dir.resolve()
    path = (root / f"{slug}.md").resolve()
    if path.parent != root:
        raise BadInputError(f"slug {slug!r} does not name a file inside {practice_dir}")
    return path


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_current(path: Path) -> bytes | None:
    """The bytes of a write-up file, or None when there is none."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace a file so that a crash leaves the old version or the new, never half of one.

    The text goes to a temporary file in the same folder, is fsynced, renamed over the
    target, and the folder is fsynced so the rename itself survives a power cut.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_file(path: Path) -> None:
    """Undo the publication of a new write-up (used when the database step fails)."""
    path.unlink(missing_ok=True)
