"""Markdown rendering is safe against hostile write-ups, and sections get stable anchors."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from kb.content.markdown import render_html, slugify, split_sections

# A corpus of payloads in the style of BookStack's content-filtering tests.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<svg onload="alert(1)"><use xlink:href="javascript:alert(1)"/></svg>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<form action=javascript:alert(1)><button formaction=javascript:alert(1)>x</button></form>",
    "[x](  javascript:alert(1)  )",
    "<object data=javascript:alert(1)></object><embed src=javascript:alert(1)>",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]


def assert_harmless(html: str) -> None:
    parsed = _Collector()
    parsed.feed(html)
    assert not {"script", "iframe", "svg", "meta", "form", "object", "embed", "img"} & \
        set(parsed.tags), parsed.tags
    for name, value in parsed.attrs:
        assert not name.startswith("on"), name
        assert "javascript:" not in value.lower().replace("\t", "")
        assert not value.lower().startswith(("data:", "vbscript:"))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_markdown_renders_harmless(payload: str) -> None:
    html, _ = render_html(f"## Context\n\n{payload}\n")
    assert_harmless(html)


def test_safe_links_survive_with_rel_on_external() -> None:
    html, _ = render_html("[a](https://example.org) [b](/practice/x) [c](#impact)")
    assert '<a href="https://example.org" rel="nofollow noopener">a</a>' in html
    assert '<a href="/practice/x">b</a>' in html and '<a href="#impact">c</a>' in html


def test_headings_get_unique_anchors() -> None:
    html, headings = render_html("## What we'd change\n\ntext\n\n## Impact\n\n## Impact\n")
    assert [h.anchor for h in headings] == ["what-wed-change", "impact", "impact-1"]
    assert '<h2 id="impact-1">' in html


def test_sections_split_on_headings_with_plain_text() -> None:
    body = "Intro text.\n\n## Context\n\nSome **bold** [link](https://x.y).\n\n" \
           "### Detail\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## Impact\n\nUp 5%.\n"
    sections = split_sections(body, intro_heading="Title")
    assert [(s.heading, s.anchor) for s in sections] == [
        ("Title", ""), ("Context", "context"), ("Detail", "detail"), ("Impact", "impact")]
    assert sections[1].text == "Some bold link."
    assert sections[2].text == "a b 1 2"


def test_slugify_handles_unicode_and_punctuation() -> None:
    assert slugify("Café: what’s next?") == "cafe-whats-next"
    assert slugify("!!!") == "section"
