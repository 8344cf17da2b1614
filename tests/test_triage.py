"""Triage for challenge leads: who may see it, the flagging rule checked from the CSV files,
sorting and filtering, the trend lines and the JSON twin."""

from __future__ import annotations

import csv
import html
import math

import pytest
from conftest import ROOT
from support_accounts import PASSWORD, Site

from kb.content.library import load_reference
from kb.state.accounts import add_user
from kb.state.schooldata import INDICATORS, import_csv

DATA = ROOT / "content" / "data"
BUNDLED = [DATA / "school-context.csv", DATA / "school-indicators.csv"]
LEAD = "lead@example.org"


@pytest.fixture
def lead_site(site: Site) -> Site:
    directory = load_reference(site.settings.content_dir)[1]
    import_csv(site.store, directory, BUNDLED)
    add_user(site.store, directory, LEAD, PASSWORD, "challenge-lead", name="Lee Lead")
    return site


@pytest.mark.parametrize("email", [None, "reader@example.org", "cara@example.org",
                                   "mod@example.org", "cpd@example.org"])
def test_only_challenge_leads_and_admins_see_triage(lead_site: Site, email: str | None) -> None:
    client = lead_site.client(email)
    page, data = client.get("/triage"), client.get("/api/triage")
    if email is None:
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert data.status_code == 401
    else:
        assert page.status_code == 403 and data.status_code == 403
        assert "Saltings" not in page.text and "saltings" not in data.text


@pytest.mark.parametrize("email", [LEAD, "admin@example.org"])
def test_leads_and_admins_get_the_table(lead_site: Site, email: str) -> None:
    page = lead_site.client(email).get("/triage")
    assert page.status_code == 200
    assert "Flagging rule." in page.text and "standard deviation" in page.text
    assert '<label for="sort">Sort by</label>' in page.text and "<svg" in page.text
    assert page.text.count('<tr id="school-') == 32


def expected_flags(data: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    """The rule on the page, worked out again from the CSV files and the similar schools."""
    phase = {r["school"]: r["phase"] for r in data["rows"]}
    peers = {r["school"]: r["similar_schools"] for r in data["rows"]}
    figures: dict[tuple[str, str, int], float] = {}
    with open(DATA / "school-indicators.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for ind in INDICATORS:
                if row[ind]:
                    figures[(row["school"], ind, int(row["year"]))] = float(row[ind])
    flags = set()
    for school in phase:
        for ind, spec in INDICATORS.items():
            years = [y for (s, i, y) in figures if s == school and i == ind]
            if not years or any(phase[p] != phase[school] for p in peers[school]):
                continue
            year = max(years)
            same = [v for (s, i, y), v in figures.items()
                    if i == ind and y == year and phase[s] == phase[school]]
            mean = sum(same) / len(same)
            sd = math.sqrt(sum((v - mean) ** 2 for v in same) / len(same))
            others = [figures[(p, ind, year)] for p in peers[school] if (p, ind, year) in figures]
            if not others:
                continue
            worse = sum(others) / len(others) - figures[(school, ind, year)]
            worse = worse if spec.higher_is_better else -worse
            if worse > sd:
                flags.add((school, ind))
    return flags


def test_flags_follow_the_stated_rule(lead_site: Site) -> None:
    data = lead_site.client(LEAD).get("/api/triage").json()
    shown = {(r["school"], f) for r in data["rows"] for f in r["flags"]}
    assert shown == expected_flags(data)
    assert ("saltings-school", "progress8") in shown  # the bundled struggling school
    saltings = next(r for r in data["rows"] if r["school"] == "saltings-school")
    p8 = next(c for c in saltings["cells"] if c["indicator"] == "progress8")
    assert p8["better_than_similar"] is False and p8["gap"] < 0
    assert math.isclose(p8["change"], p8["series"]["2024/25"] - p8["series"]["2023/24"])


def test_filters_and_sorting(lead_site: Site) -> None:
    client = lead_site.client(LEAD)
    primary = client.get("/api/triage?phase=primary").json()
    assert {r["phase"] for r in primary["rows"]} == {"primary"} and primary["total"] == 32
    flagged = client.get("/api/triage?flagged=yes").json()["rows"]
    assert flagged and all(r["flags"] for r in flagged)
    rows = client.get("/api/triage?phase=secondary&sort=progress8&order=desc").json()["rows"]
    values = [next(c["value"] for c in r["cells"] if c["indicator"] == "progress8")
              for r in rows if any(c["indicator"] == "progress8" for c in r["cells"])]
    assert values == sorted(values, reverse=True) and len(values) >= 20
    family = client.get("/triage?family=eastmere&flagged=yes").text
    assert "Saltings School" in family and "Kingsweir Grammar" not in family
    assert 'value="eastmere" selected' in family


@pytest.mark.parametrize("query, words", [
    ("sort=colour", "parameter 'sort'"), ("phase=nursery", "parameter 'phase'"),
    ("family=atlantis", "parameter 'family'"), ("order=sideways", "parameter 'order'"),
])
def test_bad_parameters_are_named(lead_site: Site, query: str, words: str) -> None:
    response = lead_site.client(LEAD).get(f"/api/triage?{query}")
    assert response.status_code == 422 and words in response.json()["detail"]
    page = lead_site.client(LEAD).get(f"/triage?{query}")
    assert page.status_code == 422 and words in html.unescape(page.text)
