"""A real headless Chromium against a real uvicorn server: search, filter, read, with and
without JavaScript."""

from __future__ import annotations

from typing import Iterator

import pytest
from support_browser import chromium, serve

from kb.settings import Settings

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(built: Settings, embedder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from webapp.app import create_app

    with serve(create_app(built, embedder=embedder, update_on_start=False)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with chromium() as launched:
        yield launched


def test_search_filter_and_open_a_write_up(server: str, browser) -> None:  # type: ignore
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + "/")
    page.get_by_label("Search the practice library").fill("phoning families when pupils are off")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    first = page.locator(".result-list .card-title a").first
    assert "First-day phone calls" in first.inner_text()
    assert page.locator(".result-list mark").count() >= 1
    # Ticking a facet applies it at once (progressive enhancement).
    page.get_by_role("link", name="Search", exact=True).click()
    page.wait_for_url("**/search")
    page.get_by_label("Mathematics").check()
    page.wait_for_url("**subject=maths**")
    titles = page.locator(".result-list .card-title a").all_inner_texts()
    assert titles and all("maths" in t.lower() for t in titles)
    page.locator(".result-list .card-title a").first.click()
    page.wait_for_selector("article.practice h1")
    assert page.locator("h1").count() == 1
    assert "About this write-up" in page.content()
    assert errors == [], errors  # no CSP violations or script errors
    page.close()


def test_pages_work_without_javascript(server: str, browser) -> None:  # type: ignore
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/search?q=reading")
    page.get_by_label("English").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**subject=english**")
    assert "Daily reading catch-up groups" in page.content()
    page.get_by_role("link", name="Clear filters").click()
    page.wait_for_url(lambda url: "subject=" not in url)
    context.close()


def test_keyboard_focus_is_visible_and_skip_link_works(server: str, browser) -> None:  # type: ignore
    page = browser.new_page()
    page.goto(server + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to main content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.close()


def test_narrow_screen_has_no_horizontal_scroll(server: str, browser) -> None:  # type: ignore
    page = browser.new_page(viewport={"width": 375, "height": 800})
    for path in ("/", "/search?q=feedback", "/practice/small-group-maths-tuition-year-11",
                 "/docs"):
        page.goto(server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 380, (path, width)
    page.close()
