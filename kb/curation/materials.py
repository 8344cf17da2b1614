"""Session materials on disk: slides, worksheets and handouts attached to a write-up or a
collection, stored, listed, read and removed under content/.

Layout (one folder per thing that uses them, so moving or deleting it is one folder):

    content/materials/practice/<write-up slug>/<file name>
    content/materials/collections/<collection slug>/<file name>

A file is stored only after kb.content.filecheck has judged its bytes and its text could be
read; names are reduced to a safe base name (no folders, no leading dot, plain characters); an
existing file is never replaced silently. Writes take the folder's lock and are atomic.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from kb.content.documents import SLUG_RE
from kb.content.extract import UnreadableMaterial, extract_text
from kb.content.filecheck import FileKind, FileRefused, check_file, human_size, kind_for_name
from kb.content.files import content_files, read_regular
from kb.curation.editing import locked, write_bytes_atomically
from kb.errors import BadInputError, KBError, NotFoundError, Problem

MATERIALS_DIR = "materials"
# The owner folders and what teachers call the owner.
OWNERS = {"practice": "write-up", "collections": "collection"}
MAX_NAME_CHARS = 120
UNSAFE_RE = re.compile(r"[^A-Za-z0-9 ._()+-]+")


@dataclass(frozen=True)
class Material:
    """One stored file: whose it is, its name, size and kind (judged when it was stored)."""

    owner: str
    slug: str
    name: str
    size: int
    kind: FileKind

    @property
    def label(self) -> str:
        return self.kind.label

    @property
    def size_text(self) -> str:
        return human_size(self.size)

    @property
    def url(self) -> str:
        return f"/{self.owner}/{self.slug}/materials/{quote(self.name)}"

    @property
    def shown_path(self) -> str:
        return f"content/{MATERIALS_DIR}/{self.owner}/{self.slug}/{self.name}"


def materials_dir(content_dir: Path, owner: str, slug: str) -> Path:
    """The folder of one write-up's or collection's materials (it may not exist yet)."""
    if owner not in OWNERS:
        raise BadInputError(f"materials belong to one of {', '.join(OWNERS)}, not {owner!r}")
    if not SLUG_RE.match(slug):
        raise NotFoundError(f"there is no {OWNERS[owner]} {slug[:80]!r}")
    return content_dir / MATERIALS_DIR / owner / slug


def safe_name(raw: str) -> str:
    """A file name safe to store: the last part of whatever path was sent, in plain letters,
    digits and a few marks, at most MAX_NAME_CHARS; BadInputError if nothing usable is left."""
    base = unicodedata.normalize("NFKC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    base = UNSAFE_RE.sub("-", base.replace("\x00", ""))
    base = re.sub(r"-{2,}", "-", base).strip(" .-")
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip(" .-"):
        raise BadInputError(f"the file name {raw[:80]!r} has no usable name and ending; rename "
                            "it (for example worksheet.docx) and upload it again")
    stem = stem[:MAX_NAME_CHARS - len(ext) - 1].rstrip(" .-")
    return f"{stem}.{ext.lower()}"


def list_materials(content_dir: Path, owner: str, slug: str) -> list[Material]:
    """The materials of one write-up or collection, by name (links and odd files ignored)."""
    folder = materials_dir(content_dir, owner, slug)
    files, _ = content_files(folder, "", hidden=False)
    out = []
    for path in files:
        kind = kind_for_name(path.name)
        if kind is not None and path.parent == folder and _is_safe(path.name):
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # removed since the folder was listed
                continue
            out.append(Material(owner, slug, path.name, size, kind))
    return sorted(out, key=lambda m: m.name.casefold())


def _is_safe(name: str) -> bool:
    """Only names an upload could have made are listed or served (a file copied in by hand
    with quotes or line breaks in its name must never reach a header)."""
    try:
        return safe_name(name) == name
    except BadInputError:
        return False


def owners_with_materials(content_dir: Path, owner: str) -> list[str]:
    """Slugs of the write-ups or collections that have a materials folder."""
    folder = content_dir / MATERIALS_DIR / owner
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_dir() and not p.is_symlink() and SLUG_RE.match(p.name))


def find_material(content_dir: Path, owner: str, slug: str, name: str) -> Material:
    """One stored material by its exact name; NotFoundError for anything else."""
    for material in list_materials(content_dir, owner, slug):
        if material.name == name:
            return material
    raise NotFoundError(f"{OWNERS[owner]} {slug} has no file called {name[:120]!r}")


def read_material(content_dir: Path, material: Material) -> bytes:
    """The bytes of a stored material (a regular file inside content/, never a link)."""
    return read_regular(materials_dir(content_dir, material.owner, material.slug) /
                        material.name)


def add_material(content_dir: Path, owner: str, slug: str, filename: str, data: bytes,
                 max_bytes: int) -> Material:
    """Check a file by its content, then store it; FileRefused (naming it) stores nothing."""
    folder = materials_dir(content_dir, owner, slug)
    name = safe_name(filename)
    kind = check_file(name, data, max_bytes)
    try:
        extract_text(name, kind.key, data)  # a file whose text cannot be read is damaged
    except UnreadableMaterial as exc:
        raise FileRefused(f"{exc}; it was not stored") from None
    folder.mkdir(parents=True, exist_ok=True)
    with locked(folder):
        target = folder / name
        if target.exists() or target.is_symlink():
            raise FileRefused(f"this {OWNERS[owner]} already has a file called “{name}”; "
                              "remove that first or rename your file")
        write_bytes_atomically(target, data)
    return Material(owner, slug, name, len(data), kind)


def remove_material(content_dir: Path, owner: str, slug: str, name: str) -> Material:
    """Delete one stored material (and its folder once empty)."""
    folder = materials_dir(content_dir, owner, slug)
    with locked(folder):
        material = find_material(content_dir, owner, slug, name)
        (folder / material.name).unlink()
    try:
        folder.rmdir()
    except OSError:  # not empty, or locked by another edit: leave it
        pass
    return material


def material_text(content_dir: Path, material: Material) -> str:
    """The words of a stored material ('' for images); UnreadableMaterial when damaged."""
    return extract_text(material.name, material.kind.key, read_material(content_dir, material))


def check_materials(content_dir: Path, max_bytes: int,
                    known: dict[str, set[str]] | None = None) -> list[Problem]:
    """Every stored material judged again by content and read for text, as `kb validate`
    reports them: one error per broken file, named by its path; with `known` (slugs by owner
    folder), a warning for a folder whose write-up or collection does not exist."""
    problems = []
    for owner in OWNERS:
        for slug in owners_with_materials(content_dir, owner):
            folder = materials_dir(content_dir, owner, slug)
            if known is not None and slug not in known.get(owner, set()):
                problems.append(Problem(_shown(content_dir, folder), 0, "",
                                        f"there is no {OWNERS[owner]} called {slug!r}, so "
                                        "these files are shown nowhere", "warning"))
            files, refused = content_files(folder, "", hidden=False)
            for path, reason in refused:
                problems.append(Problem(_shown(content_dir, path), 0, "", reason))
            for path in files:
                shown = _shown(content_dir, path)
                if not _is_safe(path.name) or kind_for_name(path.name) is None:
                    problems.append(Problem(shown, 0, "", "skipped: rename it to plain "
                                            "letters, digits, spaces and . _ - ( ) + with one "
                                            "of the endings .pdf .docx .pptx .odt .png .jpg"))
                    continue
                try:
                    data = read_regular(path)
                    kind = check_file(path.name, data, max_bytes)
                    extract_text(path.name, kind.key, data)
                except (KBError, OSError) as exc:
                    problems.append(Problem(shown, 0, "", f"skipped: {exc}"))
    return problems


def _shown(content_dir: Path, path: Path) -> str:
    try:
        return f"content/{path.relative_to(content_dir).as_posix()}"
    except ValueError:
        return str(path)
