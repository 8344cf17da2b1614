"""Contributing: the one workflow factory every router and command shares, and the preview of a
write-up as its published page would show it (kb's validation, indexer's record)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from indexer.records import from_document
from kb.content.documents import ParseResult
from kb.content.markdown import render_html
from kb.mail.notices import Notices
from kb.workflows.contribution import check_text, fields_from_text
from kb.workflows.submissions import Workflow
from services.runtime import Services


def workflow(services: Services) -> Workflow:
    """The contribution workflow, validating with the same rules as `kb validate`."""
    s = services.settings

    def check(slug: str, text: str) -> ParseResult:
        result = check_text(slug, text, services.taxonomy, services.directory, s.max_file_bytes)
        # Render the body now, as the review pages will (kb.content.markdown caches it by
        # content): its cost, bounded by a time budget, falls on the proposal being saved,
        # never on each visit to the moderation queue.
        fields = fields_from_text(text, services.taxonomy, slug)
        render_html(fields.body if fields else text)
        if result.document is not None:  # the article partial renders the parsed body
            render_html(result.document.body)
        return result

    return Workflow(services.state, s.practice_dir, check, s.max_submissions_per_hour,
                    Notices(s.site_url, s.mail_from))


@dataclass(frozen=True)
class Preview:
    """What the published page would show: the full article (rendered by the same partial
    as the write-up page), or the body alone while the front matter still has errors."""

    doc: Any
    headings: list[Any]
    body: str


def preview_of(services: Services, slug: str, text: str, body: str) -> Preview:
    """Validate the text and lay out its body's sections, as the write-up page would."""
    result = check_text(slug or "preview", text, services.taxonomy, services.directory,
                        services.settings.max_file_bytes)
    _, headings = render_html(body)
    doc = from_document(result.document) if result.document is not None else None
    return Preview(doc, [h for h in headings if h.level == 2], body)
