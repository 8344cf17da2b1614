"""The closing walk of issue 19 in a real Chromium against a real server: a challenge lead opens
triage, sees a flagged school, opens its priority and proposes a pairing; both schools accept;
a plan with milestones and a review date is agreed; a progress note is added; at review the
indicator before and since is shown; the outcome is written up, approved and counted.

Every step is checked at 320 and 1280 CSS px for reflow and axe (WCAG 2.2 AA) and saved as a
screenshot in a temporary folder (KB_WALK_SHOTS names a folder to keep them in; never
committed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest
from support_accounts import Site, open_site
from support_brokering import LEAD, PARTNER, PRIORITY, SALTINGS, add_people
from support_browser import chromium, serve
from support_pages import axe_script, measure

from kb.content.library import load_reference
from kb.settings import Settings
from kb.state.accounts import LoginPolicy, start_session
from kb.state.schooldata import import_csv

pytestmark = pytest.mark.browser
WIDTHS = (320, 1280)


@pytest.fixture
def live(private: Settings, embedder: Any, users_template: Any) -> Iterator[tuple[str, Site]]:
    from webapp.app import create_app

    for site in open_site(private, embedder, users_template):
        add_people(site)
        with serve(create_app(private, embedder=embedder, update_on_start=False)) as url:
            yield url, site


class Walk:
    """Pages for each person, and a screenshot at each width after each step."""

    def __init__(self, browser: Any, url: str, site: Site, folder: Path) -> None:
        self.browser, self.url, self.site, self.folder = browser, url, site, folder
        self.pages: dict[str, Any] = {}
        self.axe = axe_script()
        self.shots: list[Path] = []
        self.problems: list[str] = []

    def page(self, email: str) -> Any:
        if email not in self.pages:
            context = self.browser.new_context(viewport={"width": 1280, "height": 900})
            token = start_session(self.site.store, self.site.user(email), LoginPolicy())
            context.add_cookies([{"name": "kb_session", "value": token, "url": self.url}])
            self.pages[email] = context.new_page()
        return self.pages[email]

    def go(self, email: str, address: str) -> Any:
        page = self.page(email)
        page.goto(self.url + address)
        return page

    def shot(self, page: Any, name: str) -> None:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            found = measure(page, self.axe)
            if found["scroll"] > width:
                self.problems.append(f"{name} at {width}px: {found['scroll']}px wide "
                                     f"({found['what']})")
            self.problems += [f"{name} at {width}px: {v}" for v in found["violations"]]
            path = self.folder / f"{len(self.shots) // 2 + 1:02d}-{name}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            self.shots.append(path)
        page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_walk_from_a_flagged_school_to_a_counted_write_up(live: tuple[str, Site], browser: Any,
                                                         tmp_path: Path) -> None:
    url, site = live
    folder = Path(os.environ.get("KB_WALK_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    walk = Walk(browser, url, site, folder)

    # Saltings School has written its priority, tied to persistent absence.
    sal = walk.go(SALTINGS, "/schools/saltings-school/priorities")
    sal.get_by_label("What do you want to improve?").fill(PRIORITY)
    sal.get_by_label("Tied to an indicator (optional)").select_option("persistent_absence")
    sal.get_by_role("button", name="Save the priority").click()
    sal.wait_for_url("**/priorities/*")

    # 1. The challenge lead opens triage, flagged schools only, and sees Saltings flagged.
    lead = walk.go(LEAD, "/")
    lead.get_by_role("link", name="Triage").first.click()
    lead.get_by_label("Flagged only").check()
    lead.get_by_role("button", name="Show").click()
    lead.wait_for_url("**/triage?*flagged=yes*")
    row = lead.locator("#school-saltings-school")
    assert "Flagged" in row.inner_text() and "Persistent absence" in row.inner_text()
    walk.shot(lead, "triage-flagged")

    # 2. Through the school's page to its priority, with partners ranked and explained.
    row.get_by_role("link", name="The Saltings School").click()
    lead.get_by_role("link", name="This school's improvement priorities").click()
    lead.get_by_role("link", name=PRIORITY[:30]).click()
    partners = lead.locator("ol.partners > li")
    assert "Brackenford Community School" in partners.first.inner_text()
    walk.shot(lead, "priority-partners")

    # 3. The lead proposes Brackenford.
    offer = partners.first
    offer.get_by_label("Why pair with Brackenford Community School").fill(
        "Their first-day calls training matches your priority")
    offer.get_by_role("button", name="Propose this pairing").click()
    lead.wait_for_url("**/pairings/*")
    address = lead.url.replace(url, "")
    assert "Proposed: waiting for both schools" in lead.inner_text("main")
    walk.shot(lead, "pairing-proposed")

    # 4. Both schools accept.
    for email, school in ((SALTINGS, "The Saltings School"),
                          (PARTNER, "Brackenford Community School")):
        page = walk.go(email, address)
        page.get_by_role("button", name=f"Accept for {school}").click()
        page.wait_for_load_state()
    partner = walk.pages[PARTNER]
    assert "Agreed." in partner.inner_text("main")

    # 5. The partner writes the plan: a goal, milestones and a review date.
    partner.get_by_label("What the support should achieve").fill(
        "A first-day call for every absence, and a paired home visit on day three")
    partner.get_by_label("Milestones, one a line").fill(
        "2027-01-10 Training session at Brackenford for Saltings' attendance team\n"
        "2027-02-01 Call scripts written and rehearsed\n"
        "2027-04-30 Calls made on nine in ten first days")
    partner.get_by_label("Review date").fill("2027-07-15")
    partner.get_by_role("button", name="Save the plan").click()
    partner.wait_for_load_state()
    assert "Review on 2027-07-15" in partner.inner_text("main")
    walk.shot(partner, "plan-agreed")

    # 6. Saltings adds a progress note.
    sal = walk.go(SALTINGS, address)
    sal.get_by_label("Add a progress note").fill("Calls started in Year 9; home visits paired "
                                                 "with the family support worker")
    sal.get_by_role("button", name="Add the note").click()
    sal.wait_for_load_state()
    assert "Calls started in Year 9" in sal.inner_text("main")

    # 7. The year's figures arrive (`kb schools import`); at review the lead records the
    #    outcome beside the indicator before and since the pairing began.
    figures = tmp_path / "figures-2026-27.csv"
    figures.write_text("school,year,attainment8,progress8,ks2_rwm_expected,disadvantaged_gap,"
                       "persistent_absence\nsaltings-school,2027,37.9,-0.21,,19.8,27.4\n")
    import_csv(site.store, load_reference(site.settings.content_dir)[1], [figures])
    lead = walk.go(LEAD, address)
    lead.get_by_label("What happened, and what the figures show").fill(
        "Calls were made on 95% of first days; persistent absence in Year 9 fell by a third")
    lead.get_by_role("button", name="Record the review").click()
    lead.wait_for_load_state()
    main = lead.inner_text("main")
    assert "Reviewed." in main and "before the pairing" in main and "since it began" in main
    assert lead.locator("svg.trend-chart circle").count() == 5
    walk.shot(lead, "reviewed-trend")

    # 8. Saltings writes it up from the pre-filled form and submits it.
    sal = walk.go(SALTINGS, address)
    sal.get_by_role("link", name="Write it up").click()
    sal.wait_for_url("**/contribute?pairing=*")
    assert "comes out of pairing" in sal.inner_text("main")
    assert "Calls were made on 95%" in sal.get_by_label("The write-up").input_value()
    walk.shot(sal, "writeup-prefilled")
    sal.get_by_label("Key stage 3").check()
    sal.get_by_label("Pastoral").check()
    sal.get_by_label("Attendance", exact=True).check()
    sal.get_by_label("Emerging").check()
    body = sal.get_by_label("The write-up").input_value().replace(
        "## What we would change\n\n", "## What we would change\n\nStart in September.\n\n")
    sal.get_by_label("The write-up").fill(body.rstrip() + "\n\nTrain two staff; share the "
                                          "script.\n")
    sal.get_by_role("button", name="Submit for review").click()
    sal.wait_for_url("**/my/submissions/*")
    assert "Pairing" in sal.inner_text("main")

    # 9. A moderator approves it; the partnership overview counts and links it.
    mod = walk.go("mod@example.org", "/moderation")
    mod.get_by_role("link", name=PRIORITY[:30]).first.click()
    mod.get_by_role("button", name="Approve and publish").click()
    mod.wait_for_url("**/moderation?done=approved*")
    lead = walk.go(LEAD, "/partnership")
    main = lead.inner_text("main")
    assert "1 published write-up came out of support" in main
    assert lead.get_by_role("link", name=PRIORITY[:30]).count() == 1
    walk.shot(lead, "partnership-overview")

    assert len(walk.shots) == 14 and all(p.stat().st_size > 5000 for p in walk.shots)
    assert not walk.problems, "\n".join(walk.problems)
