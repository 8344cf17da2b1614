"""A real headless Chromium against a real uvicorn server: search, filter, read, with and
without JavaScript."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from typing import Iterator

import pytest
import uvicorn

from kb.settings import Settings

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(built: Settings, embedder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from webapp.app import create_app

    port = free_port()
    config = uvicorn.Config(create_app(built, embedder=embedder, update_on_start=False),
                            host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started:
        assert time.time() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


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
    for path in ("/", "/search?q=feedback", "/practice/small-group-maths-tuition-year-11"):
        page.goto(server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 380, (path, width)
    page.close()
