"""Keyboard walks in a real Chromium: filtering the search lands focus on the results, the
phone menu opens without a script, and the contribution form's error summary takes focus and
links to its fields."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from support_accounts import ROLE_PEOPLE, Site, open_site
from support_browser import chromium, serve

from kb.settings import Settings
from kb.state.accounts import LoginPolicy, start_session

pytestmark = pytest.mark.browser
FIRST_RESULT = "document.activeElement.closest('.result-list') !== null"


@pytest.fixture(scope="module")
def live(built: Settings, embedder: Any, users_template: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Site]]:
    import shutil

    from webapp.app import create_app

    base = tmp_path_factory.mktemp("keys")
    shutil.copytree(built.content_dir, base / "content")
    shutil.copytree(built.index_dir, base / "var" / "index",
                    ignore=shutil.ignore_patterns(".lock"))
    settings = Settings(content_dir=base / "content", data_dir=base / "var")
    for site in open_site(settings, embedder, users_template):
        with serve(create_app(settings, embedder=embedder, update_on_start=False)) as url:
            yield url, site


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def tabs_to(page: Any, condition: str, limit: int = 120) -> int:
    """How many presses of Tab until `condition` holds for the focused element."""
    for count in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(condition):
            return count
    raise AssertionError(f"Tab never reached it in {limit} presses")


def filter_by_keyboard(page: Any, url: str, javascript: bool) -> None:
    """Open the filters, tick Mathematics and (without a script) apply, all by keyboard."""
    page.goto(url + "/search?q=pupils")
    summary = page.locator("details.filters > summary")
    if summary.is_visible():
        summary.focus()
        page.keyboard.press("Enter")
    page.get_by_label("Mathematics").focus()
    page.keyboard.press("Space")
    if not javascript:
        page.get_by_role("button", name="Apply filters").focus()
        page.keyboard.press("Enter")
    page.wait_for_url("**subject=maths**")
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("javascript", [True, False])
def test_after_filtering_the_first_result_is_one_or_two_tabs_away(
        live: tuple[str, Site], browser: Any, width: int, javascript: bool) -> None:
    url, _ = live
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": width, "height": 800})
    page = context.new_page()
    filter_by_keyboard(page, url, javascript)
    assert page.url.endswith("#results-heading")
    if javascript:
        assert page.evaluate("document.activeElement.id") == "results-heading"
    assert "Mathematics" in page.locator("details.filters > summary").inner_text() or \
        "(1 active)" in page.locator("details.filters > summary").inner_text()
    assert tabs_to(page, FIRST_RESULT) <= 2
    context.close()


def test_skip_to_results_and_results_come_first_on_a_phone(live: tuple[str, Site],
                                                           browser: Any) -> None:
    url, _ = live
    page = browser.new_page(viewport={"width": 320, "height": 640})
    page.goto(url + "/search?q=reading&subject=english")
    assert "(1 active)" in page.locator("details.filters > summary").inner_text()
    assert not page.get_by_label("English").is_visible()  # folded away above the results
    first = page.locator(".result-list li").first.bounding_box()
    assert first and first["y"] < 640  # the first result starts on the first screen
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to results"
    page.keyboard.press("Enter")
    assert tabs_to(page, FIRST_RESULT) <= 2
    page.close()


def test_phone_menu_opens_by_keyboard_without_a_script(live: tuple[str, Site],
                                                       browser: Any) -> None:
    url, _ = live
    context = browser.new_context(java_script_enabled=False,
                                  viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(url + "/")
    header = page.evaluate("document.querySelector('.site-header').offsetHeight")
    assert header <= 100, header  # was 160 px signed out, about 300 signed in
    assert not page.get_by_role("link", name="Collections", exact=True).is_visible()
    tabs_to(page, "document.activeElement.tagName === 'SUMMARY'")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Collections", exact=True).click()
    page.wait_for_url("**/collections")
    context.close()


def test_contribution_errors_take_focus_and_link_to_their_fields(live: tuple[str, Site],
                                                                  browser: Any) -> None:
    url, site = live
    context = browser.new_context(viewport={"width": 320, "height": 800})
    token = start_session(site.store, site.user(ROLE_PEOPLE["contributor"]), LoginPolicy())
    context.add_cookies([{"name": "kb_session", "value": token, "url": url}])
    page = context.new_page()
    page.goto(url + "/contribute")
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Submit for review").focus()
    # The summary is in the page as soon as it is parsed; the deferred script focuses it at
    # DOMContentLoaded. Wait for the new page's load event (after that), rather than race it.
    # (wait_for_function would evaluate a string, which the page's CSP rightly forbids.)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    summary = page.locator(".error-summary").inner_text()
    assert "Enter a title" in summary and "Choose the phase" in summary
    assert "must" not in summary and "got nothing" not in summary
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Enter a title"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "f-title"
    assert site.workflow().mine(site.user(ROLE_PEOPLE["contributor"])) == []
    context.close()
