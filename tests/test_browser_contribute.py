"""Contribution and moderation in a real headless Chromium against a real uvicorn server,
with JavaScript off: sign in, fill the form by its labels, preview, submit, approve."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from support_accounts import GOOD_BODY, PASSWORD, Site, open_site
from support_browser import chromium, serve

from kb.settings import Settings

pytestmark = pytest.mark.browser


@pytest.fixture
def live(private: Settings, embedder: Any, users_template: Any) -> Iterator[tuple[str, Site]]:
    from webapp.app import create_app

    for site in open_site(private, embedder, users_template):
        with serve(create_app(private, embedder=embedder, update_on_start=False)) as url:
            yield url, site


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    with chromium() as launched:
        yield launched


def sign_in(browser: Any, url: str, email: str, javascript: bool = False) -> Any:
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/")
    return page


def test_contribute_and_approve_without_javascript(live: tuple[str, Site], browser: Any) -> None:
    url, site = live
    page = sign_in(browser, url, "cara@example.org")
    page.get_by_role("link", name="Contribute").click()
    page.get_by_label("Title").fill("Sixth formers reading with Year 8")
    page.get_by_label("Summary").fill("Volunteers read novels with Year 8 and understanding "
                                      "improved.")
    page.get_by_label("Authors").fill("Cara Contributor")
    page.get_by_label("Secondary").check()
    page.get_by_label("Key stage 3").check()
    page.get_by_label("English", exact=True).check()
    page.get_by_label("Peer tutoring").check()
    page.get_by_label("Emerging").check()
    page.get_by_label("What was measured").fill("Comprehension scores of 36 pupils.")
    page.get_by_label("The write-up").fill(GOOD_BODY)
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("section.preview article.practice")
    assert page.locator("h1").count() == 1
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_url("**/my/submissions/*?done=submitted")
    assert "Waiting for review" in page.content()

    moderator = sign_in(browser, url, "mod@example.org")
    moderator.get_by_role("link", name="Moderation").click()
    moderator.get_by_role("link", name="Review Sixth formers reading with Year 8").click()
    moderator.get_by_role("button", name="Approve and publish").click()
    moderator.wait_for_url("**/moderation?done=approved*")
    moderator.get_by_role("link", name="Open the published write-up").click()
    moderator.wait_for_selector("article.practice h1")
    assert "Revision history" in moderator.content()
    assert (site.settings.practice_dir / "sixth-formers-reading-with-year-8.md").exists()


def test_new_pages_fit_a_phone_and_raise_no_script_errors(live: tuple[str, Site],
                                                          browser: Any) -> None:
    url, _ = live
    page = sign_in(browser, url, "admin@example.org", javascript=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/contribute", "/my/submissions", "/moderation", "/login",
                 "/practice/weekly-quizzes-year-7-maths"):
        page.goto(url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 380, (path, width)
    page.goto(url + "/contribute")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == \
        "Skip to main content"
    assert errors == [], errors
