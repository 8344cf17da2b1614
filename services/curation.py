"""Curating on the web: one change to a collection file (kb.curation's editor, checked against
the library) and its entry in the audit log (kb.state), as the curators' forms make them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from kb.curation.catalogue import Curation, collection_editor
from kb.curation.editing import CollectionEditor
from kb.state import audit
from kb.state.accounts import User
from services.runtime import Services

T = TypeVar("T")


def change_collection(services: Services, curation: Curation,
                      change: Callable[[CollectionEditor], T]) -> T:
    """Apply one edit to a collection file; a refused change raises and writes nothing."""
    return change(collection_editor(services.settings, curation.library))


def record_change(services: Services, user: User, action: str, slug: str,
                  detail: str = "") -> None:
    """Note a curator's change in the audit log, as `collection.<action>` on the collection."""
    with services.state.write() as conn:
        audit.record(conn, user.email, f"collection.{action}", f"collection:{slug}", detail)
