"""Session materials as the web app uses them: who may attach or remove them, storing and
removing one with its audit entry, and the words of collections' materials for search."""

from __future__ import annotations

import logging
import threading

from indexer.keyword import WORD_RE
from kb.curation.materials import (
    OWNERS,
    Material,
    add_material,
    find_material,
    list_materials,
    material_text,
    owners_with_materials,
    read_material,
    remove_material,
)
from kb.errors import KBError, PermissionDeniedError
from kb.state import audit
from kb.state.accounts import User
from kb.workflows.submissions import has_published
from services.moderation import reindex
from services.runtime import Services

log = logging.getLogger(__name__)
# Curators and moderators look after every write-up and collection (admins hold every role).
KEEPERS = ("curator", "moderator")
_lock = threading.Lock()


def may_attach(services: Services, user: User | None, owner: str, slug: str) -> bool:
    """Curators and moderators for any write-up or collection; a contributor for the write-ups
    they wrote (a submission of theirs was published under that slug)."""
    if user is None or user.disabled:
        return False
    if user.has_role(*KEEPERS):
        return True
    return owner == "practice" and user.has_role("contributor", "family-lead") and \
        has_published(services.state, user.id, slug)


def _require(services: Services, user: User, owner: str, slug: str) -> None:
    if not may_attach(services, user, owner, slug):
        what = OWNERS.get(owner, owner)
        raise PermissionDeniedError(f"only curators, moderators and the authors of a {what} "
                                    f"may change its files; you are signed in as a {user.role}")


def materials_of(services: Services, owner: str, slug: str) -> list[Material]:
    return list_materials(services.settings.content_dir, owner, slug)


def material_file(services: Services, owner: str, slug: str, name: str
                  ) -> tuple[Material, bytes]:
    """One stored material and its bytes, for download."""
    material = find_material(services.settings.content_dir, owner, slug, name)
    return material, read_material(services.settings.content_dir, material)


def attach(services: Services, user: User, owner: str, slug: str, filename: str,
           data: bytes) -> Material:
    """Check and store one uploaded file, then note it in the audit log."""
    _require(services, user, owner, slug)
    material = add_material(services.settings.content_dir, owner, slug, filename, data,
                            services.settings.max_material_bytes)
    _record(services, user, "add", material)
    if owner == "practice":  # its words become passages of the write-up
        reindex(services)
    return material


def detach(services: Services, user: User, owner: str, slug: str, name: str) -> Material:
    """Remove one stored file, then note it in the audit log."""
    _require(services, user, owner, slug)
    material = remove_material(services.settings.content_dir, owner, slug, name)
    _record(services, user, "remove", material)
    if owner == "practice":
        reindex(services)
    return material


def _record(services: Services, user: User, action: str, material: Material) -> None:
    target = f"{'practice' if material.owner == 'practice' else 'collection'}:{material.slug}"
    with services.state.write() as conn:
        audit.record(conn, user.email, f"material.{action}", target,
                     f"{material.name} ({material.label}, {material.size_text})")


def collection_material_words(services: Services) -> dict[str, list[tuple[str, frozenset[str]]]]:
    """(file name, its words, case-folded) of every collection's readable materials, by
    collection slug. Text is read and split once per file version (name, size, modification
    time) and kept on the services object, so a search only compares word sets."""
    content_dir = services.settings.content_dir
    found: dict[str, list[tuple[str, frozenset[str]]]] = {}
    cache = services.material_words
    seen = set()
    for slug in owners_with_materials(content_dir, "collections"):
        for material in list_materials(content_dir, "collections", slug):
            path = content_dir / material.shown_path.removeprefix("content/")
            try:
                key = (material.shown_path, material.size, path.stat().st_mtime_ns)
            except OSError:
                continue
            seen.add(key)
            with _lock:
                words = cache.get(key)
            if words is None:
                try:
                    text = material_text(content_dir, material)
                except (KBError, OSError) as exc:  # reported by kb validate; never breaks search
                    log.warning("material not searchable: %s", exc)
                    text = ""
                words = frozenset(w.casefold() for w in WORD_RE.findall(text))
                with _lock:
                    cache[key] = words
            if words:
                found.setdefault(slug, []).append((material.name, words))
    with _lock:  # forget files changed or removed since
        for key in [k for k in cache if k not in seen]:
            del cache[key]
    return found
