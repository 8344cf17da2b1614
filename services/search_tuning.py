"""Teaching the search: a curator's or moderator's change to content/search.yaml (kb's
validating editor), recorded as a revision and in the audit log (kb.state), then applied by
republishing the index without re-embedding (indexer)."""

from __future__ import annotations

from collections.abc import Callable

from kb.curation.catalogue import Curation
from kb.curation.search_tuning import FILE_NAME, SearchTuning, SearchTuningEditor
from kb.state import audit
from kb.state.accounts import User
from kb.workflows.revisions import Revision, add_revision, history
from services.moderation import reindex
from services.runtime import Services

# search.yaml's versions share the revision history with write-ups under a name no write-up
# can have (slugs never hold a dot).
REVISION_KEY = FILE_NAME
AUDIT_TARGET = "search:tuning"


def tuning_editor(services: Services, curation: Curation) -> SearchTuningEditor:
    """The editor, checking best bets against what is published now."""
    return SearchTuningEditor(services.settings.content_dir, curation.library.taxonomy,
                              {d.slug for d in curation.library.published()},
                              {c.slug for c in curation.published_collections()})


def teach(services: Services, curation: Curation, user: User, action: str, detail: str,
          change: Callable[[SearchTuningEditor], SearchTuning]) -> SearchTuning:
    """Apply one change (a refused one raises and writes nothing), keep the new file as a
    revision, audit it, and republish the index so searches use it within seconds."""
    editor = tuning_editor(services, curation)
    tuning = change(editor)
    text = editor.path.read_text(encoding="utf-8")
    with services.state.write() as conn:
        add_revision(conn, REVISION_KEY, text, author=user.email, approved_by=user.email,
                     summary=detail)
        audit.record(conn, user.email, f"search.{action}", AUDIT_TARGET, detail)
    reindex(services)
    return tuning


def tuning_history(services: Services) -> list[Revision]:
    """Every version of search.yaml saved from the web, newest first."""
    return history(services.state, REVISION_KEY)
