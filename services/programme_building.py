"""Building a programme on the web: one curator's change to a programme file (kb.curation's
editor, checked against the collections as they are now), saved with its sign-up checks,
revision and audit entry (kb.workflows.programme_edits)."""

from __future__ import annotations

from collections.abc import Callable

from kb.curation.catalogue import Curation
from kb.curation.programme_editing import PreparedEdit, ProgrammeEditor
from kb.state.accounts import User
from kb.workflows.programme_edits import programme_history, save_edit
from kb.workflows.revisions import Revision
from services.runtime import Services


def programme_editor(services: Services, curation: Curation) -> ProgrammeEditor:
    """An editor for content/programmes/ checking sessions against today's collections."""
    settings = services.settings
    return ProgrammeEditor(settings.programmes_dir, curation.library.taxonomy,
                           curation.references, settings.max_file_bytes)


def change_programme(services: Services, curation: Curation, user: User, slug: str,
                     action: str, detail: str,
                     prepare: Callable[[ProgrammeEditor], PreparedEdit],
                     field: str = "form") -> PreparedEdit:
    """Apply one change; a refused one raises ProgrammeRefused and writes nothing."""
    return save_edit(services.state, programme_editor(services, curation), user, slug, action,
                     detail, prepare, field)


def revisions_of(services: Services, slug: str) -> list[Revision]:
    """The programme file's saved versions, newest first."""
    return programme_history(services.state, slug)
