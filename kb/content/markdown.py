"""Markdown for write-ups: safe HTML rendering and splitting into sections with stable anchors."""

from __future__ import annotations

import hashlib
import html
import math
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

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
    md = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False,
                                   "maxNesting": MAX_NESTING})
    md.validateLink = _safe_link  # type: ignore[method-assign]
    for ruler in (md.block.ruler, md.inline.ruler, md.inline.ruler2):
        for rule in ruler.__rules__:
            rule.fn = _on_budget(rule.fn)
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


# Input limits and a time budget: some Markdown costs time quadratic in its length (200,000
# "[" took 10 s), and bodies come from strangers. Every parsing rule checks the clock; past the
# budget the body is shown as plain paragraphs instead, which costs time linear in its length.
MAX_NESTING = 20
MAX_RENDER_CHARS = 400_000
MAX_MARKUP_CHARS = 20_000  # "*", "_", "[" and "`" in one body
RENDER_BUDGET = 0.3  # seconds of CPU time for one body
_clock = threading.local()


class RenderBudgetExceeded(Exception):
    """Parsing a body took longer than RENDER_BUDGET."""


def _on_budget(fn: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(*args: Any) -> Any:
        if time.thread_time() > getattr(_clock, "deadline", math.inf):
            raise RenderBudgetExceeded()
        return fn(*args)
    return guarded


def _parse(body: str, env: dict[str, Any]) -> list[Token]:
    """Tokens for a body, or RenderBudgetExceeded when it is too long or too slow to parse."""
    # Pairing emphasis delimiters runs as one step per paragraph, between clock checks, so
    # their number is limited up front; no write-up needs thousands.
    if len(body) > MAX_RENDER_CHARS or sum(body.count(c) for c in "*_[`") > MAX_MARKUP_CHARS:
        raise RenderBudgetExceeded()
    # CPU time of this thread, not wall time: a body within the budget renders in full however
    # busy the machine is (the result is cached, so a busy moment must not decide it).
    _clock.deadline = time.thread_time() + RENDER_BUDGET
    try:
        return _MD.parse(body, env)
    finally:
        _clock.deadline = math.inf


def _plain_paragraphs(body: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)


_MD = _parser()


class RenderCache:
    """Rendered bodies by content hash (a revision renders once), bounded by total size."""

    def __init__(self, max_chars: int = 20_000_000) -> None:
        self.max_chars = max_chars
        self._items: OrderedDict[tuple[str, str, int], tuple[str, list[Heading]]] = \
            OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, int]) -> tuple[str, list[Heading]] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, int], value: tuple[str, list[Heading]]) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._chars += len(value[0])
            while self._chars > self.max_chars and len(self._items) > 1:
                _, (old_html, _) = self._items.popitem(last=False)
                self._chars -= len(old_html)


_CACHE = RenderCache()


def render_html(body: str, anchor_prefix: str = "",
                shift_headings: int = 0) -> tuple[str, list[Heading]]:
    """Render a write-up body to HTML that is safe to insert into a page, with heading anchors.

    anchor_prefix keeps ids unique when several bodies share a page (a handout), and
    shift_headings demotes headings (h2 -> h3) to nest the body under a page's own headings.
    """
    key = (hashlib.sha256(body.encode("utf-8", "replace")).hexdigest(), anchor_prefix,
           shift_headings)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached[0], list(cached[1])
    try:
        rendered = _render(body, anchor_prefix, shift_headings)
    except RenderBudgetExceeded:
        rendered = (_plain_paragraphs(body), [])
    _CACHE.put(key, rendered)
    return rendered[0], list(rendered[1])


def _render(body: str, anchor_prefix: str, shift_headings: int) -> tuple[str, list[Heading]]:
    env: dict[str, Any] = {}
    tokens = _parse(body, env)
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
    """Split a body at level-2 and level-3 headings into plain-text sections (one section of
    plain text for a body too long or too slow to parse)."""
    try:
        tokens = _parse(body, {})
    except RenderBudgetExceeded:
        text = " ".join(body.split())
        return [Section(intro_heading, "", 2, text)] if text else []
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
