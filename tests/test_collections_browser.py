"""The inset day and a handout in a real headless Chromium: filtering without JavaScript, the
print stylesheet, and narrow screens."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from conftest import ROOT
from support_browser import chromium, serve

from kb.settings import Settings

pytestmark = pytest.mark.browser
DAY = "/programmes/common-inset-day-2022"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[str]:  # type: ignore
    """The bundled content served by uvicorn; collection pages need no search index."""
    from webapp.app import create_app

    settings = Settings(content_dir=ROOT / "content",
                        data_dir=Path(tmp_path_factory.mktemp("browser")) / "var")
    with serve(create_app(settings, embedder=embedder, update_on_start=False)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with chromium() as launched:
        yield launched


def test_the_day_filters_without_javascript(server: str, browser) -> None:  # type: ignore
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + DAY)
    assert page.locator("table.timetable tbody td a").count() == 21
    page.get_by_label("Subject").select_option("maths")
    page.get_by_label("Phase").select_option("primary")
    page.get_by_role("button", name="Show my sessions").click()
    page.wait_for_url("**subject=maths&phase=primary")
    sessions = page.locator("table.timetable tbody td a").all_inner_texts()
    assert "Keeping everyone up in primary maths" in sessions
    assert "Hinge questions before moving on" not in sessions  # secondary only
    assert page.get_by_label("Subject").input_value() == "maths"
    page.get_by_role("link", name="Show the whole day").click()
    page.wait_for_url(server + DAY)
    context.close()


def test_handout_prints_with_page_breaks_and_links_written_out(server: str,  # type: ignore
                                                               browser) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + "/collections/attendance-what-moved-persistent-absence/print")
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).display") \
        == "none"
    assert page.evaluate("getComputedStyle(document.querySelector('.handout-item'))"
                         ".breakBefore") == "page"
    assert page.locator(".handout-item").count() == 3
    pdf = page.pdf(format="A4")  # Chromium's own print of the page, as a teacher would
    assert pdf.startswith(b"%PDF-")
    assert errors == [], errors
    page.close()


def test_collection_and_day_fit_a_narrow_screen(server: str, browser) -> None:  # type: ignore
    page = browser.new_page(viewport={"width": 375, "height": 800})
    for path in ("/collections", "/collections/new-to-english", DAY):
        page.goto(server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 380, (path, width)  # the grid scrolls inside its own region
    page.close()
