"""Markdown that is slow to render (reliability row 37) and dates that are no dates (row 35):
rendering has input limits and a time budget and is cached per revision, so the moderation
queue stays fast whatever is pending; an upload or API call with an impossible date is 422."""

from __future__ import annotations

import time

import pytest
from support_accounts import GOOD_BODY, Site, good_form
from test_contribute_web import CARA, form_page

from kb.content import markdown
from kb.content.markdown import RENDER_BUDGET, render_html, split_sections
from kb.workflows.contribution import Fields, build_text

HOSTILE = {
    "brackets": "[" * 200_000,
    "emphasis": "*a **a " * 30_000,
    "emphasis-within-markup-limit": "*a **a " * 6_000,
    "underscores-within-markup-limit": "_a __a " * 6_000,
    "links": "[a](" * 50_000,
    "nesting": "> " * 5_000 + "deep",
}


# Bounds are on CPU time of this process (time.process_time): the work done, whatever else
# the machine is busy with.
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bodies_render_within_the_budget_and_once_per_revision(name: str) -> None:
    body = GOOD_BODY + "\n\n" + HOSTILE[name] + "\n"
    started = time.process_time()
    html, _ = render_html(body)
    first = time.process_time() - started
    assert first < RENDER_BUDGET + 0.5, (name, first)
    assert "<script" not in html and "Year 10 volunteers" in html
    started = time.process_time()
    again, _ = render_html(body)
    assert again == html and time.process_time() - started < 0.05  # cached by content
    started = time.process_time()
    split_sections(body)
    assert time.process_time() - started < RENDER_BUDGET + 0.5


def test_ordinary_write_ups_keep_their_formatting() -> None:
    html, headings = render_html(GOOD_BODY + "\n\nSee [the guide](https://example.org) *now*.")
    assert '<h2 id="context">Context</h2>' in html and "<em>now</em>" in html
    assert 'href="https://example.org"' in html and [h.anchor for h in headings][0] == "context"


def test_a_body_past_the_budget_is_shown_as_escaped_plain_paragraphs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markdown, "RENDER_BUDGET", 0.0)
    html, headings = render_html("## Heading <b>\n\nA [link](https://x.example) *here*.\n")
    assert html == ("<p>## Heading &lt;b&gt;</p>\n"
                    "<p>A [link](https://x.example) *here*.</p>\n") and headings == []


def _submit(site: Site, slug: str, body: str) -> None:
    client = site.client(CARA)
    token = client.get("/api/me").json()["csrf_token"]
    text = build_text(Fields(**good_form(body=GOOD_BODY + "\n\n" + body + "\n")))
    made = client.post("/api/submissions", headers={"X-CSRF-Token": token},
                       json={"markdown": text, "slug": slug, "submit": True})
    assert made.status_code == 201, made.text[:500]
    assert made.json()["submission"]["status"] == "pending", made.json()["problems"]


def test_the_moderation_queue_stays_fast_with_hostile_items_pending(site: Site) -> None:
    for name in ("brackets", "emphasis", "links"):
        _submit(site, f"hostile-{name}", HOSTILE[name])
    moderator = site.client("mod@example.org")
    for path in ("/moderation", "/api/moderation", "/moderation", "/api/moderation"):
        started = time.process_time()
        response = moderator.get(path)
        took = time.process_time() - started
        assert response.status_code == 200, path
        assert took < 0.6, (path, round(took, 2))
    queue = moderator.get("/api/moderation").json()
    assert {item["submission"]["slug"] for item in queue} >= {
        "hostile-brackets", "hostile-emphasis", "hostile-links"}


# -- impossible dates through the API and the upload form (row 35) ----------------------------

BAD_DATES = ["2024-02-30", "2024-13-45", "30/02/2024"]


@pytest.mark.parametrize("bad", BAD_DATES)
def test_the_api_refuses_an_impossible_date_with_422_and_stores_nothing(
        site: Site, bad: str) -> None:
    client = site.client(CARA)
    token = client.get("/api/me").json()["csrf_token"]
    text = build_text(Fields(**good_form())).replace("date: 2024-03-01", f"date: {bad}")
    assert f"date: {bad}" in text
    before = site.count("submissions")
    for submit in (False, True):
        response = client.post("/api/submissions", headers={"X-CSRF-Token": token},
                               json={"markdown": text, "slug": "bad-date", "submit": submit})
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert "[date]" in detail and "line " in detail and "not a real date" in detail \
            or "year first" in detail, detail
    assert site.count("submissions") == before


@pytest.mark.parametrize("bad", BAD_DATES)
def test_an_upload_with_an_impossible_date_is_422_and_stores_nothing(
        site: Site, bad: str) -> None:
    client = site.client(CARA)
    _, token, key = form_page(client)
    text = build_text(Fields(**good_form())).replace("date: 2024-03-01", f"date: {bad}")
    for action in ("check", "save"):
        response = client.post("/contribute/upload",
                               data={"csrf_token": token, "action": action,
                                     "idempotency_key": key},
                               files={"file": ("dated.md", text.encode(), "text/markdown")})
        assert response.status_code == 422 and "dated.md" in response.text
        assert "date" in response.text and "(line " in response.text
    assert site.count("submissions") == 0


def test_a_busy_machine_does_not_turn_a_good_body_into_plain_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Wall time racing ahead (other processes holding the CPU) must not trip the budget: the
    # result is cached, so a busy moment would otherwise decide the page for good.
    ticks = iter(range(0, 10**9, 10))
    monkeypatch.setattr(markdown.time, "monotonic", lambda: float(next(ticks)))
    html, headings = render_html(GOOD_BODY + "\n\n## Busy moment\n\nStill *formatted*.\n")
    assert '<h2 id="busy-moment">Busy moment</h2>' in html and "<em>formatted</em>" in html
    assert [h.anchor for h in headings][-1] == "busy-moment"
