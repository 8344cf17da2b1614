"""A CPD lead builds a small inset day in a real Chromium on a 320 px wide screen, with
ordinary clicks and typing into fields: every page fits the screen and the console stays
clean, and the published day shows the session."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from support_accounts import Site
from support_browser import chromium, serve

from kb.state.accounts import LoginPolicy, start_session

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).parent / "fixtures"


def fits(page: Any, problems: list[str]) -> None:
    page.wait_for_load_state("load")  # measured with its stylesheet applied
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 320:
        problems.append(f"{page.url} is {width}px wide")


def test_a_cpd_lead_builds_a_day_at_320px(site: Site, embedder: Any) -> None:
    from webapp.app import create_app

    shutil.copytree(FIXTURES / "collections", site.settings.collections_dir)
    problems: list[str] = []
    with serve(create_app(site.settings, embedder=embedder, update_on_start=False)) as url, \
            chromium() as browser:
        context = browser.new_context(viewport={"width": 320, "height": 700})
        token = start_session(site.store, site.user("cpd@example.org"), LoginPolicy())
        context.add_cookies([{"name": "kb_session", "value": token, "url": url}])
        page = context.new_page()
        # the refused change below answers 422 on purpose; Chromium logs that status too
        page.on("console", lambda m: problems.append(m.text) if m.type == "error"
                and "status of 422" not in m.text else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(url + "/programmes")
        page.get_by_role("link", name="New programme").click()
        page.wait_for_url("**/programmes/new")
        fits(page, problems)
        page.get_by_label("Title", exact=True).fill("Summer inset day")
        page.get_by_label("Date of the day").fill("2026-07-01")
        page.get_by_label("Venue").fill("Test Hall")
        page.get_by_label("Summary").fill("One round of workshops.")
        page.get_by_role("button", name="Create the programme").click()
        page.wait_for_url("**/programmes/summer-inset-day/edit?done=created")
        fits(page, problems)

        page.get_by_role("link", name="Add a room").click()
        page.get_by_label("Name", exact=True).fill("Room 1")
        page.get_by_label("Seats (optional)").fill("20")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/edit?done=room")

        page.get_by_role("link", name="Add a strand").click()
        page.wait_for_url("**/edit/strands/new")
        fits(page, problems)
        page.get_by_label("Title", exact=True).fill("Maths")
        page.get_by_label("Mathematics", exact=True).check()
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/edit?done=strand")

        page.get_by_role("link", name="Add a time slot").click()
        page.get_by_label("Time", exact=True).fill("09:30-10:30")
        page.get_by_label("Title", exact=True).fill("Workshops")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/edit?done=slot")

        page.get_by_role("link", name="Place a session at 09:30").click()
        page.wait_for_url("**/edit/slots/09:30/sessions/new")
        fits(page, problems)
        page.get_by_label("Collection it teaches").select_option("maths-tuition-and-quizzes")
        page.get_by_label("Facilitators").fill("Ann Maths (Hillside)")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/edit?done=session")
        fits(page, problems)

        # a clash is explained beside the field, and the summary links to it
        page.get_by_role("link", name="Add a time slot").click()
        page.get_by_label("Time", exact=True).fill("10:00-11:00")
        page.get_by_label("Title", exact=True).fill("Overlapping")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/edit/slots/new")  # the form again, answered with 422
        summary = page.locator(".error-summary")
        assert "before the slot above ends at 10:30" in summary.inner_text()
        summary.get_by_role("link").first.click()
        assert page.evaluate("document.activeElement.id") == "f-time"
        fits(page, problems)
        page.get_by_role("link", name="Back without saving").click()

        page.get_by_role("button", name="Publish the programme").click()
        page.wait_for_url("**/edit?done=status")
        page.get_by_role("link", name="Open the programme page").click()
        page.wait_for_url("**/programmes/summer-inset-day")
        fits(page, problems)
        assert "Maths tuition and quizzes" in page.locator("table.timetable").inner_text()
        assert page.get_by_role("link", name="Edit programme").count() == 1
        context.close()
    assert problems == []
