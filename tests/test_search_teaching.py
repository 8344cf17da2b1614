"""Moderators and curators teach the search on the web: phrases and best bets from the
results page, the gap list and a page of their own; audited, in the history, role-gated."""

from __future__ import annotations

import re
from urllib.parse import unquote

from support_accounts import Site, csrf_of

from kb.state.audit import entries
from kb.state.searchlog import log_search

CURATOR, MODERATOR, CONTRIBUTOR = "cpd@example.org", "mod@example.org", "cara@example.org"
PAGE = "/search/tuning"


def test_only_moderators_and_curators_see_or_change_it(site: Site) -> None:
    assert site.client().get(PAGE).status_code in (302, 303, 307)
    assert site.client(CONTRIBUTOR).get(PAGE).status_code == 403
    assert site.client(CONTRIBUTOR).get("/api/search/tuning").status_code == 403
    assert site.client(CURATOR).get(PAGE).status_code == 200
    assert site.client(MODERATOR).get("/api/search/tuning").json() == {"aliases": [],
                                                                        "best_bets": []}
    forged = site.client(CONTRIBUTOR).post(f"{PAGE}/aliases", data={
        "csrf_token": "x", "phrase": "p", "term": "interventions:attendance"})
    assert forged.status_code == 403
    assert not (site.settings.content_dir / "search.yaml").exists()
    results = site.client(CONTRIBUTOR).get("/search", params={"q": "phone calls"}).text
    assert "Pin as the best answer" not in results and "Teach the search" not in results


def test_a_phrase_taught_from_a_results_page_applies_at_once(site: Site) -> None:
    curator = site.client(CURATOR)
    query = "kids doing a vanishing act"
    page = curator.get("/search", params={"q": query})
    assert "Teach the search about" in page.text
    posted = curator.post(f"{PAGE}/aliases", data={
        "csrf_token": csrf_of(page.text), "phrase": query,
        "term": "interventions:attendance", "next": f"/search?q={query}"})
    assert posted.status_code == 303
    assert unquote(posted.headers["location"]) == f"/search?q={query}"
    again = curator.get("/search", params={"q": query}).text
    assert "Also searched for Attendance" in again
    listed = curator.get(PAGE).text
    assert "kids doing a vanishing act" in listed and "taught" in listed  # and in the history
    actions = [e.action for e in entries(site.store, target="search:tuning")]
    assert actions == ["search.alias"]


def test_a_result_pinned_from_the_results_page_leads_and_can_be_removed(site: Site) -> None:
    moderator = site.client(MODERATOR)
    page = moderator.get("/search", params={"q": "calling home"}).text
    form = re.search(r'<form class="inline-form pin".*?name="slug" value="([a-z0-9-]+)"', page,
                     re.S)
    assert form
    slug = form.group(1)
    moderator.post(f"{PAGE}/best-bets", data={
        "csrf_token": csrf_of(page), "query": "calling home", "kind": "practice",
        "slug": "whole-class-feedback-science", "note": "Try this first"})
    body = moderator.get("/api/search", params={"q": "Calling home"}).json()
    assert body["results"][0]["slug"] == "whole-class-feedback-science"
    assert body["results"][0]["reasons"]["recommended"]
    listed = moderator.get(PAGE).text
    assert "Try this first" in listed and slug
    removed = moderator.post(f"{PAGE}/best-bets/remove", data={
        "csrf_token": csrf_of(listed), "query": "calling home", "kind": "practice",
        "slug": "whole-class-feedback-science"})
    assert removed.status_code == 303
    assert not moderator.get("/api/search", params={"q": "calling home"}).json()[
        "results"][0]["reasons"]["recommended"]


def test_an_invalid_change_is_refused_beside_the_form_and_nothing_is_written(
        site: Site) -> None:
    curator = site.client(CURATOR)
    page = curator.get(PAGE).text
    refused = curator.post(f"{PAGE}/best-bets", data={
        "csrf_token": csrf_of(page), "query": "anything", "kind": "practice",
        "slug": "no-such-write-up"})
    assert refused.status_code == 422 and "The change was not saved" in refused.text
    assert not (site.settings.content_dir / "search.yaml").exists()


def test_the_gap_list_says_which_gaps_were_answered_and_counts_distinct_searches(
        site: Site) -> None:
    for minute in ("00", "05", "20"):  # one teacher ticking filters: one search
        log_search(site.store, "chess club ideas", {}, 0, None,
                   at=f"2026-12-01T10:{minute}:00+00:00")
    log_search(site.store, "chess club ideas", {}, 0, None, at="2026-12-02T09:00:00+00:00")
    log_search(site.store, "origami lunchtime club", {}, 0, None,
               at="2026-12-02T09:00:00+00:00")
    moderator = site.client(MODERATOR)
    page = moderator.get("/gaps", params={"days": 3650}).text
    row = re.search(r'<th scope="row">chess club ideas</th><td>(\d+)</td>', page)
    assert row and row.group(1) == "2"
    assert "2 of 2 still open" in page
    moderator.post(f"{PAGE}/aliases", data={
        "csrf_token": csrf_of(page), "phrase": "chess club",
        "term": "subjects:pe"})
    after = moderator.get("/gaps", params={"days": 3650}).text
    assert "Answered (phrase: chess club)" in after and "1 of 2 still open" in after
