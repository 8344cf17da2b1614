"""Schools, families, the coverage map and the Atom feeds."""

from __future__ import annotations

import re
from datetime import datetime
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from kb.content.coverage import build_coverage, format_coverage
from kb.content.library import load_library
from kb.settings import Settings

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def assert_valid_atom(xml: str) -> ET.Element:
    """The RFC 4287 rules a reader relies on: ids, titles, RFC 3339 times, authors, links."""
    feed = ET.fromstring(xml)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
    assert RFC3339.match(feed.findtext(f"{ATOM}updated") or "")
    assert any(link.get("rel") == "self" for link in feed.findall(f"{ATOM}link"))
    feed_has_author = feed.find(f"{ATOM}author/{ATOM}name") is not None
    ids = set()
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert RFC3339.match(entry.findtext(f"{ATOM}updated") or "")
        assert feed_has_author or entry.find(f"{ATOM}author/{ATOM}name") is not None
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
        ids.add(entry.findtext(f"{ATOM}id"))
    assert len(ids) == len(feed.findall(f"{ATOM}entry"))
    return feed


def test_feed_is_valid_atom_newest_first(client: TestClient) -> None:
    response = client.get("/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = assert_valid_atom(response.text)
    dates = [e.findtext(f"{ATOM}updated") for e in feed.findall(f"{ATOM}entry")]
    assert len(dates) == 6 and dates == sorted(dates, reverse=True)
    datetime.fromisoformat(dates[0].replace("Z", "+00:00"))


@pytest.mark.parametrize("query, expected", [
    ("subject=maths", 2), ("intervention=attendance", 1), ("family=eastmere", 2),
    ("subject=music", 0), ("key_stage=ks2", 1),
])
def test_filtered_feeds(client: TestClient, query: str, expected: int) -> None:
    feed = assert_valid_atom(client.get(f"/feed.atom?{query}").text)
    assert len(feed.findall(f"{ATOM}entry")) == expected


def test_feed_rejects_unknown_filter_values(client: TestClient) -> None:
    assert client.get("/feed.atom?subject=astrology").status_code == 422


def test_coverage_counts_equal_counts_from_the_files(client: TestClient, built: Settings) -> None:
    library = load_library(built)
    expected: dict[tuple[str, str], int] = {}
    for doc in library.published():
        for i in doc.interventions:
            for s in doc.subjects:
                expected[(i, s)] = expected.get((i, s), 0) + 1
    html = client.get("/coverage").text
    shown = {(m.group(1), m.group(2)): int(m.group(3)) for m in re.finditer(
        r'href="/search\?intervention=([a-z-]+)&amp;subject=([a-z-]+)"[^>]*>(\d+)', html)}
    assert shown == expected
    assert "<caption" in html and 'scope="row"' in html


def test_coverage_by_key_stage_and_in_the_terminal(built: Settings) -> None:
    library = load_library(built)
    docs = [{f: d.tags(f) for f in ("subjects", "interventions", "key_stages",
                                    "evidence_strength")} for d in library.published()]
    ks4 = build_coverage(docs, library.taxonomy, ["ks4"])
    assert ks4.total == 3
    assert ks4.cell("small-group-tuition", "maths").count == 1
    assert ks4.cell("small-group-tuition", "maths").best == "established"
    text = format_coverage(ks4, library.taxonomy)
    assert "Small-group tuition" in text and "1*" in text


def test_school_and_family_pages(client: TestClient) -> None:
    html = client.get("/schools/eastmere-academy").text
    assert "<h1>Eastmere Academy</h1>" in html and "Whole-class feedback sheets" in html
    assert "@" not in html.split("<main", 1)[1]  # no email addresses published
    html = client.get("/families/eastmere").text
    assert "Eastmere Coast Family" in html and "The Saltings School" in html
    assert "Small-group maths tuition" in html
    assert client.get("/families").status_code == 200
    assert client.get("/schools/nowhere").status_code == 404
    assert client.get("/families/nowhere").status_code == 404


def test_interventions_link_to_named_national_evidence(client: TestClient) -> None:
    html = client.get("/interventions/feedback").text
    assert "EEF Teaching and Learning Toolkit" in html and "+6 months" in html
    taxonomy = client.get("/api/taxonomy").json()
    by_id = {t["id"]: t for t in taxonomy["interventions"]}
    assert by_id["feedback"]["evidence"]["source"] == "EEF Teaching and Learning Toolkit"
    # Only figures with a named source are bundled: no invented figure for retrieval practice.
    assert by_id["retrieval-practice"]["evidence"] is None
    for term in taxonomy["interventions"]:
        if term["evidence"]:
            assert term["evidence"]["source"] and term["evidence"]["url"].startswith("https://")
