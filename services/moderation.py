"""Moderating and publishing: a submission as a moderator reviews it, and the decisions that
change the published library (approve, restore a revision, promote) followed by a reindex."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from indexer.pipeline import index_content
from kb.errors import KBError, Problem
from kb.state.accounts import User, get_user
from kb.workflows import transfer
from kb.workflows.contribution import diff_lines, fields_from_text
from kb.workflows.publishing import practice_path, read_current
from kb.workflows.revisions import Revision, get_revision, restore
from kb.workflows.submissions import Submission
from services.contribution import Preview, preview_of, workflow
from services.runtime import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Review:
    """A submission as a moderator sees it: preview, validation result and diff."""

    sub: Submission
    preview: Preview
    problems: list[Problem]
    diff: list[tuple[str, str]]
    published: bool


def review_of(services: Services, sub: Submission) -> Review:
    """Check the submission as its author would be checked, and diff an edit against the
    published file."""
    flow = workflow(services)
    try:
        # The family rule is the author's, so check the proposal as its author would be.
        author: User | None = get_user(services.state, sub.author_email)
    except KBError:
        author = None
    problems = (flow.problems(author, sub.kind, sub.slug, sub.text, sub.id)
                if author is not None and sub.status == "pending"
                else flow.check(sub.slug, sub.text).problems)
    try:
        current = read_current(practice_path(services.settings.practice_dir, sub.slug))
    except KBError:
        current = None
    diff = diff_lines(current.decode("utf-8", "replace"), sub.text) \
        if current is not None and sub.kind == "edit" else []
    fields = fields_from_text(sub.text, services.taxonomy, sub.slug)
    body = fields.body if fields else sub.text
    return Review(sub, preview_of(services, sub.slug, sub.text, body), problems, diff,
                  current is not None)


def reindex(services: Services) -> bool:
    """Bring the search index up to date after a publication (the running engine picks up
    the new generation by itself); False when that failed and the next `kb index` must."""
    try:
        index_content(services.settings, services.engine.embedder, progress=False)
    except KBError as exc:
        log.error("index update after publication failed: %s", exc)
        return False
    services.engine.refresh()  # readers in this process see the new generation at once
    return True


def approve(services: Services, moderator: User, submission_id: int,
            comment: str = "") -> tuple[Submission, bool]:
    """Publish a submission and reindex; the flag says whether the index is up to date."""
    sub = workflow(services).approve(moderator, submission_id, comment)
    return sub, reindex(services)


def restore_revision(services: Services, moderator: User, slug: str, number: int) -> Revision:
    """Publish an earlier revision again (recorded as a new revision), then reindex."""
    new_number = restore(services.state, moderator, services.settings.practice_dir, slug,
                         number, workflow(services).check)
    reindex(services)
    return get_revision(services.state, slug, new_number)


def promote(services: Services, moderator: User, slug: str) -> str:
    """Raise a replicated write-up's evidence strength one level, then reindex; returns the
    new strength."""
    levels = [t.id for t in services.taxonomy.for_field("evidence_strength").terms]
    strength = transfer.promote(services.state, moderator, services.settings.practice_dir, slug,
                                levels, workflow(services).check)
    reindex(services)
    return strength
