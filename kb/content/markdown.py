"""Markdown for write-ups: safe HTML rendering and splitting into sections with stable anchors."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token


@dataclass(frozen=True)
class Section:
    """A heading and the plain text under it (up to the next heading of level 2 or 3)."""

    heading: str
    anchor: str
    level: int
    text: str


@dataclass(frozen=True)
class Heading:
    text: str
    anchor: str
    level: int


def slugify(text: str) -> str:
    """An ASCII anchor for a heading: 'What we'd change' -> 'what-wed-change'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"['’]", "", ascii_text.lower())).strip("-")
    return slug or "section"


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def _assign_anchors(tokens: list[Token]) -> list[Heading]:
    seen: dict[str, int] = {}
    headings: list[Heading] = []
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        text = _inline_text(tokens[i + 1])
        base = slugify(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchor = base if count == 0 else f"{base}-{count}"
        token.attrSet("id", anchor)
        headings.append(Heading(text, anchor, int(token.tag[1])))
    return headings


def _parser() -> MarkdownIt:
    # js-default: CommonMark with tables and strikethrough, raw HTML off; validateLink drops
    # javascript:, vbscript:, file: and non-image data: URLs.
    md = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.add_render_rule("table_open", _open_table)
    md.add_render_rule("table_close", _close_table)
    return md


def _open_table(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    # A wide table scrolls inside its own box, so the text around it still fits a phone
    # (WCAG 1.4.10); the box takes keyboard focus so it can be scrolled without a mouse.
    env["tables"] = int(env.get("tables", 0)) + 1
    return (f'<div class="table-scroll" role="region" tabindex="0" '
            f'aria-label="Table {env["tables"]}">\n' + self.renderToken(tokens, idx, options, env))


def _close_table(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    return self.renderToken(tokens, idx, options, env) + "</div>\n"


_SAFE_SCHEMES = re.compile(r"^(https?:|mailto:|#|/(?!/)|\.{0,2}/|[^:/?#]*(?:[/?#]|$))",
                           re.IGNORECASE)


def _safe_link(url: str) -> bool:
    """Allow http(s), mailto and relative links only; everything else is left as text."""
    cleaned = re.sub(r"[\x00-\x20]", "", url)
    return bool(_SAFE_SCHEMES.match(cleaned))


_MD = _parser()


def render_html(body: str, anchor_prefix: str = "",
                shift_headings: int = 0) -> tuple[str, list[Heading]]:
    """Render a write-up body to HTML that is safe to insert into a page, with heading anchors.

    anchor_prefix keeps ids unique when several bodies share a page (a handout), and
    shift_headings demotes headings (h2 -> h3) to nest the body under a page's own headings.
    """
    env: dict[str, object] = {}
    tokens = _MD.parse(body, env)
    headings = _assign_anchors(tokens)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            if anchor_prefix and token.type == "heading_open":
                token.attrSet("id", anchor_prefix + str(token.attrGet("id")))
            if shift_headings:
                token.tag = f"h{min(6, int(token.tag[1]) + shift_headings)}"
    for token in tokens:
        for child in token.children or []:
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                if href.startswith(("http://", "https://")):
                    child.attrSet("rel", "nofollow noopener")
    html = _MD.renderer.render(tokens, _MD.options, env)
    return html, headings


def split_sections(body: str, intro_heading: str = "Introduction") -> list[Section]:
    """Split a body at level-2 and level-3 headings into plain-text sections."""
    tokens = _MD.parse(body, {})
    _assign_anchors(tokens)
    sections: list[Section] = []
    heading, anchor, level = intro_heading, "", 2
    parts: list[str] = []

    def flush() -> None:
        text = " ".join(" ".join(parts).split())
        if text:
            sections.append(Section(heading, anchor, level, text))

    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open" and token.tag in ("h1", "h2", "h3"):
            flush()
            parts = []
            heading = _inline_text(tokens[i + 1])
            anchor = str(token.attrGet("id") or "")
            level = int(token.tag[1])
            i += 3
            continue
        if token.type == "inline":
            parts.append(_inline_text(token))
        elif token.type in ("fence", "code_block"):
            parts.append(token.content)
        i += 1
    flush()
    return sections


def plain_text(body: str) -> str:
    """The body as plain text (for word counts and snippets)."""
    return " ".join(s.text for s in split_sections(body))
