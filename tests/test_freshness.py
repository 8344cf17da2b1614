"""The review-due list for moderators and the CPD leads' dashboard."""

from __future__ import annotations

import datetime as dt
import re

from support_accounts import Site, good_form
from test_web import check_page

from kb.content.library import load_library
from kb.workflows import support, transfer
from kb.workflows.contribution import Fields, build_text
from services.dashboard import last_months
from services.moderation import approve
from webapp.charts import chart


def test_review_list_is_soonest_first_and_for_moderators(site: Site) -> None:
    page = site.client("mod@example.org").get("/moderation/reviews?within=0")
    assert page.status_code == 200
    check_page(page.text)
    dates = re.findall(r'<td><time datetime="(\d{4}-\d\d-\d\d)"', page.text)
    expected = sorted(str(d.review_due) for d in load_library(site.settings).published()
                      if d.review_due <= dt.date.today())
    assert dates == expected and len(dates) >= 5
    assert "Overdue" in page.text
    assert site.client("cara@example.org").get("/moderation/reviews").status_code == 403


def test_dashboard_counts_per_month(site: Site) -> None:
    support.ask(site.store, site.user("eve@example.org"), slug="weekly-quizzes-year-7-maths",
                school="ashcombe-academy", family="brackenford", kind="visit", message="hi")
    transfer.report(site.store, site.user("eve@example.org"),
                    slug="weekly-quizzes-year-7-maths", origin_school="ashcombe-academy",
                    context="c", adapted="", measured="", result="mixed")
    page = site.client("cpd@example.org").get("/dashboard?months=120")
    assert page.status_code == 200
    check_page(page.text)
    assert page.text.count("<svg") == 5 and "<script" not in page.text.split("<main")[1]
    month = dt.date.today().strftime("%Y-%m")
    assert "<desc id=\"chart-support-desc\">Support requests per month:" in page.text
    assert re.search(rf"chart-support-desc\">[^<]*{month} 1</desc>", page.text)
    assert re.search(rf"chart-transfers-desc\">[^<]*{month} 1</desc>", page.text)
    published = sum(1 for d in load_library(site.settings).published()
                    if d.date.strftime("%Y-%m") in last_months(120))
    shown = re.search(r"Write-ups published \(by approval date\) \((\d+)\)", page.text)
    assert shown and int(shown.group(1)) == published, shown
    assert site.client("cara@example.org").get("/dashboard").status_code == 403
    assert site.client("mod@example.org").get("/dashboard").status_code == 200


def test_chart_scales_to_the_largest_month() -> None:
    c = chart("x", "X", {"2024-01": 4, "2024-02": 2}, ["2024-01", "2024-02", "2024-03"])
    assert [b.value for b in c.bars] == [4, 2, 0] and c.total == 6
    assert c.bars[0].height == 2 * c.bars[1].height and c.bars[2].height == 0
    assert last_months(3, dt.date(2024, 2, 10)) == ["2023-12", "2024-01", "2024-02"]


def test_dashboard_counts_a_write_up_in_the_month_it_was_approved(site: Site) -> None:
    """Its own date (2024-03-01) is long ago; it was approved today, so it counts now."""
    flow = site.workflow()
    sub, _ = flow.save(site.user("cara@example.org"), kind="new", slug="approved-today",
                       text=build_text(Fields(**good_form())), submit=True)
    approve(site.app.state.services, site.user("mod@example.org"), sub.id)
    page = site.client("cpd@example.org").get("/dashboard?months=1").text
    month = dt.date.today().strftime("%Y-%m")
    assert re.search(rf"chart-published-desc\">[^<]*{month} 1</desc>", page), page[:3000]
