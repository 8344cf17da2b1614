"""The contribution and moderation pages and API on a real app: the form, preview, inline
errors, uploads, hostile input, size limits, double submits, floods and slug attacks
(reliability rows 7 and 21-24)."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from support_accounts import Site, csrf_of, good_form, key_of, open_site, with_settings
from test_markdown import PAYLOADS, assert_harmless
from test_web import check_page

from kb.settings import Settings
from kb.workflows.contribution import Fields, build_text

CARA = "cara@example.org"


def form_page(client: TestClient, url: str = "/contribute") -> tuple[str, str, str]:
    page = client.get(url)
    assert page.status_code == 200, page.text[:300]
    return page.text, csrf_of(page.text), key_of(page.text)


def post_form(client: TestClient, action: str, url: str = "/contribute", **changes: Any
              ) -> Any:
    _, token, key = form_page(client, url)
    return client.post(url, data={**good_form(**changes), "action": action,
                                  "csrf_token": token, "idempotency_key": key})


def article(html: str) -> str:
    return html.split('<article class="practice">', 1)[1].split("</article>", 1)[0]


class _Active(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "svg", "iframe", "object", "embed", "meta", "img"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or "javascript:" in (value or "").lower():
                self.found.append(f"{tag}[{name}]")


def assert_no_active_content(html: str) -> None:
    """For whole pages (which have their own forms): no scripts, handlers or js: URLs."""
    parser = _Active()
    parser.feed(html)
    assert parser.found == []


def test_contribute_form_is_labelled_and_prefilled(site: Site) -> None:
    html, _, _ = form_page(site.client(CARA))
    check_page(html)
    assert "## Context" in html and "## How to adopt it" in html  # the section template
    assert '<option value="ashcombe-academy" selected>' in html
    assert 'for="interventions-peer-tutoring"' in html
    assert "Pupils teaching or supporting other pupils" in html or \
        'id="interventions-peer-tutoring-hint"' in html
    assert 'name="csrf_token"' in html and 'enctype="multipart/form-data"' in html


def test_preview_renders_like_the_published_page_and_stores_nothing(site: Site) -> None:
    response = post_form(site.client(CARA), "preview")
    assert response.status_code == 200
    check_page(response.text)
    preview = article(response.text)
    assert 'id="impact"' in preview and "About this write-up" in preview
    assert "Evidence: Emerging" in preview and "Ashcombe Academy" in preview
    assert site.count("submissions") == 0


def test_problems_appear_next_to_their_fields_in_plain_words_and_nothing_is_stored(
        site: Site) -> None:
    response = post_form(site.client(CARA), "submit", subjects=[], date="not a date",
                         evidence_strength="", title="")
    assert response.status_code == 422
    html = response.text
    check_page(html)
    assert "Nothing has been saved yet" in html and "problems to fix" in html
    subjects = html.split('id="f-subjects"', 1)[1].split("</fieldset>", 1)[0]
    assert "Choose at least one subject" in subjects
    date_field = html.split('<label for="f-date">', 1)[1].split("</div>", 1)[0]
    assert "Enter a real date" in date_field and 'aria-invalid="true"' in date_field
    assert '<a href="#f-evidence_strength">Choose how strong the evidence is</a>' in html
    assert '<a href="#f-title">Enter a title</a>' in html
    assert "must be" not in html.split("<main", 1)[1] and "got nothing" not in html
    assert "not a date" in html  # what was typed comes back in the form
    assert site.workflow().mine(site.user(CARA)) == []  # a failed submit creates no draft
    saved = post_form(site.client(CARA), "save", subjects=[], title="Paired reading")
    assert saved.status_code == 303  # saving a draft on purpose still keeps unfinished work
    mine = site.client(CARA).get("/my/submissions").text
    assert ">Paired reading</a>" in mine and ">paired-reading</a>" not in mine


def test_hostile_input_is_escaped_in_preview_and_on_the_published_page(site: Site) -> None:
    """Reliability row 21: stored raw, escaped on output, template syntax never evaluated."""
    hostile = {
        "title": '"><svg onload=alert(1)> {{7*7}} {% raw %}x\u202eevil',
        "summary": "<script>alert(1)</script> {{ 7*7 }}",
        "authors": '<img src=x onerror=alert(1)>, {{config}}',
        "evidence_measure": "<iframe src=javascript:alert(1)> ${7*7}",
        "body": good_form()["body"] + "\n\n" + "\n\n".join(PAYLOADS),
    }
    client = site.client(CARA)
    preview = post_form(client, "preview", **hostile).text
    assert_harmless(article(preview))
    assert "{{7*7}}" in preview and "49" not in article(preview)
    assert "&lt;svg onload=alert(1)&gt;" in preview
    tagged = post_form(client, "preview", subjects=['"><svg onload=alert(1)>']).text
    assert_no_active_content(tagged.split("<main", 1)[1])
    assert "not in the taxonomy" in tagged
    submitted = post_form(client, "submit", slug="hostile-one", **hostile)
    assert submitted.status_code == 303, submitted.text[:500]
    [sub] = site.workflow().mine(site.user(CARA))
    assert "{{7*7}}" in sub.text  # stored raw
    site.workflow().approve(site.user("mod@example.org"), sub.id)
    moderator = site.client("mod@example.org")
    for url in ("/moderation", f"/moderation/{sub.id}", "/practice/hostile-one",
                "/my/submissions"):
        html = (moderator if "moderation" in url else client).get(url).text
        main = html.split("<main", 1)[1]
        assert_no_active_content(main)
        if '<article class="practice">' in main:
            assert_harmless(article(main))
        assert "49" not in re.sub(r"\d{3,}", "", main.split("Revision history")[0]) or \
            url == "/my/submissions"


def test_uploading_a_ready_file_fills_and_checks_the_form(site: Site) -> None:
    client = site.client(CARA)
    _, token, key = form_page(client)
    text = build_text(Fields(**good_form(subjects=["English", "astrology"])))
    response = client.post("/contribute/upload", data={"csrf_token": token, "action": "check",
                                                       "idempotency_key": key},
                           files={"file": ("peer-reading.md", text.encode(), "text/markdown")})
    assert response.status_code == 200
    html = response.text
    assert "Loaded peer-reading.md" in html and 'value="peer-reading"' in html
    assert "unknown subjects tag &#39;astrology&#39;" in html or "astrology" in html
    assert 'value="english" checked' in html
    assert site.count("submissions") == 0
    saved = client.post("/contribute/upload",
                        data={"csrf_token": token, "action": "save", "idempotency_key": key},
                        files={"file": ("peer-reading.md", text.encode(), "text/markdown")})
    assert saved.status_code == 303 and site.count("submissions") == 1


# The page says what to do in plain words (issue 16); the validator's wording ("malformed
# YAML", "front matter") stays in the API and `kb validate`.
@pytest.mark.parametrize("content, message", [
    (b"---\ntitle: [unclosed\n---\nbody\n", "the details at the top of the file"),
    (b"\xff\xfe not utf-8", "the file is not plain text"),
    (b"no front matter at all", "does not start with the details block"),
    (b"---\ntitle: x\n---\n" + b"a" * 300_000, "the file is too long"),
])
def test_bad_uploads_get_clear_messages(site: Site, content: bytes, message: str) -> None:
    client = site.client(CARA)
    _, token, _ = form_page(client)
    response = client.post("/contribute/upload", data={"csrf_token": token, "action": "save"},
                           files={"file": ("bad.md", content, "text/markdown")})
    assert response.status_code == 422
    assert message in response.text and "bad.md" in response.text
    assert "malformed YAML" not in response.text and "front matter" not in response.text
    assert site.count("submissions") == 0


# -- reliability row 22: size and shape limits -----------------------------------------------

def test_dependency_floors_for_known_form_parsing_bugs() -> None:
    def parts(name: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", version(name))[:3])

    assert parts("starlette") >= (0, 40, 0)  # CVE-2024-47874
    assert parts("python-multipart") >= (0, 0, 18)  # CVE-2024-24762, CVE-2024-53981


def test_oversized_and_malformed_bodies_are_refused_fast(site: Site) -> None:
    client = site.client(CARA)
    _, token, _ = form_page(client)
    started = time.process_time()
    huge = client.post("/contribute", content=b"body=" + b"x" * 50_000_000,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413 and time.process_time() - started < 2.0
    assert "more than this site accepts" in huge.text

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 100_000

    streamed = client.post("/contribute", content=chunks(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert streamed.status_code == 413
    api = client.post("/api/submissions", content=b"{" + b" " * 2_000_000 + b"}",
                      headers={"Content-Type": "application/json"})
    assert api.status_code == 413 and "more than" in api.json()["detail"]
    many = "&".join(f"f{i}=1" for i in range(10_000)) + f"&csrf_token={token}"
    fields = client.post("/contribute", content=many.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert fields.status_code == 400 and "fields" in fields.text.lower()
    big_file = client.post("/contribute/upload", data={"csrf_token": token, "action": "save"},
                           files={"file": ("big.md", b"x" * 3_000_000, "text/markdown")})
    assert big_file.status_code == 413 and "smaller file" in big_file.text
    boundary = client.post("/contribute/upload", content=b"--x\r\n\r\n",
                           headers={"Content-Type": "multipart/form-data; boundary="})
    assert boundary.status_code == 400
    assert site.count("submissions") == 0
    assert client.get("/contribute").status_code == 200  # still serving


def test_an_over_long_write_up_is_refused_with_the_limit(site: Site) -> None:
    response = post_form(site.client(CARA), "submit",
                         body=good_form()["body"] + "word " * 60_000)
    assert response.status_code == 422 and "the limit is" in response.text


# -- reliability rows 23 and 24: repeats and floods --------------------------------------------

def test_two_moderators_approving_through_the_api_at_once_publish_once(site: Site) -> None:
    sub, _ = site.workflow().save(site.user(CARA), kind="new", slug="race-one",
                                  text=build_text(Fields(**good_form())), submit=True)
    calls = []
    for email in ("mod@example.org", "mod2@example.org"):
        client = site.client(email)
        calls.append((client, {"X-CSRF-Token": client.get("/api/me").json()["csrf_token"]}))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda call: call[0].post(
            f"/api/moderation/{sub.id}/approve", json={}, headers=call[1]), calls))
    assert sorted(r.status_code for r in results) == [200, 409]
    assert len(site.client(None).get("/api/practices/race-one/revisions").json()) == 1


def test_a_repeated_submit_is_not_refused_as_clashing_with_itself(site: Site) -> None:
    """The second click of a double click, arriving after the first was stored (the race the
    concurrent test below hits now and then): the waiting submission is its own, so the slug
    does not clash and the same submission comes back."""
    client = site.client(CARA)
    _, token, key = form_page(client)
    data = {**good_form(), "action": "submit", "csrf_token": token, "idempotency_key": key}
    first = client.post("/contribute", data=data)
    second = client.post("/contribute", data=data)
    assert (first.status_code, second.status_code) == (303, 303), second.text[:300]
    assert first.headers["location"] == second.headers["location"]
    assert site.count("submissions") == 1


def test_a_double_clicked_submit_creates_one_submission(site: Site) -> None:
    client = site.client(CARA)
    _, token, key = form_page(client)
    data = {**good_form(), "action": "submit", "csrf_token": token, "idempotency_key": key}
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: client.post("/contribute", data=data), range(2)))
    assert [r.status_code for r in results] == [303, 303]
    assert site.count("submissions") == 1
    assert len({r.headers["location"] for r in results}) == 1


@pytest.fixture
def strict_site(private: Settings, embedder: Any,
                users_template: Any) -> Iterator[Site]:
    yield from open_site(with_settings(private, max_submissions_per_hour=5), embedder,
                         users_template)


def test_a_flood_of_submissions_is_throttled(strict_site: Site) -> None:
    client = strict_site.client(CARA)
    statuses = []
    for i in range(12):
        statuses.append(post_form(client, "save", slug=f"flood-{i}").status_code)
    assert statuses[:5] == [303] * 5 and set(statuses[5:]) == {429}
    assert strict_site.count("submissions") == 5


def test_the_honeypot_field_turns_bots_away(site: Site) -> None:
    response = post_form(site.client(CARA), "submit", website="http://spam.example")
    assert response.status_code == 400 and site.count("submissions") == 0


# -- reliability row 7: slugs through the form --------------------------------------------------

@pytest.mark.parametrize("slug", ["../../etc/passwd", "/etc/passwd", "%2e%2e%2fetc",
                                  "..\\..\\x", "ｅｔｃ", "caf\u0435", "ok\nslug", "a" * 90])
def test_slugs_that_could_escape_are_refused(site: Site, slug: str) -> None:
    before = site.files()
    response = post_form(site.client(CARA), "submit", slug=slug)
    assert response.status_code == 422
    assert "Web address" in response.text or "slug" in response.text.lower()
    assert re.search(r'class="error-message" id="e-slug-1"', response.text)
    assert site.files() == before
    assert all(s.status == "draft" for s in site.workflow().mine(site.user(CARA)))
    assert not list(Path(site.settings.content_dir).rglob("passwd*"))


def test_slug_clash_is_reported_next_to_the_field(site: Site) -> None:
    response = post_form(site.client(CARA), "submit", slug="weekly-quizzes-year-7-maths")
    assert response.status_code == 422 and "already published" in response.text


# -- the review cycle through the pages ---------------------------------------------------------

def test_changes_requested_comment_reaches_the_author_who_resubmits(site: Site) -> None:
    cara, mod = site.client(CARA), site.client("mod@example.org")
    location = post_form(cara, "submit").headers["location"]
    sub_id = int(re.search(r"/my/submissions/(\d+)", location).group(1))  # type: ignore
    review = mod.get(f"/moderation/{sub_id}")
    check_page(review.text)
    assert "passes the same checks" in review.text
    response = mod.post(f"/moderation/{sub_id}/request-changes",
                        data={"csrf_token": csrf_of(review.text),
                              "comment": "Please add <b>how many</b> tutors"})
    assert response.status_code == 303
    mine = cara.get("/my/submissions").text
    assert "Changes requested" in mine and "&lt;b&gt;how many&lt;/b&gt;" in mine
    page = cara.get(f"/my/submissions/{sub_id}")
    assert "Moderator's comment" in page.text and "(Mo Moderator)" in page.text
    resubmit = cara.post(f"/my/submissions/{sub_id}", data={
        **good_form(body=good_form()["body"] + "\nTwelve tutors took part.\n"),
        "action": "submit", "csrf_token": csrf_of(page.text)})
    assert resubmit.status_code == 303
    assert "Waiting for review" in cara.get("/my/submissions").text
    withdraw_page = cara.get(f"/my/submissions/{sub_id}")
    assert cara.post(f"/my/submissions/{sub_id}/withdraw",
                     data={"csrf_token": csrf_of(withdraw_page.text)}).status_code == 303
    assert "Draft" in cara.get("/my/submissions").text


def test_edit_proposal_shows_a_diff_and_other_families_cannot_edit(site: Site) -> None:
    cara = site.client(CARA)
    page = cara.get("/practice/weekly-quizzes-year-7-maths")
    assert 'href="/practice/weekly-quizzes-year-7-maths/edit"' in page.text
    html, token, key = form_page(cara, "/practice/weekly-quizzes-year-7-maths/edit")
    assert 'name="base_hash"' in html and "Weekly low-stakes quizzes" in html
    fields = {k: v for k, v in re.findall(r'name="(\w+)" type="text"[^>]*value="([^"]*)"', html)}
    assert fields["title"] == "Weekly low-stakes quizzes in Year 7 maths"
    eve = site.client("eve@example.org")
    assert eve.get("/practice/weekly-quizzes-year-7-maths/edit").status_code == 403
    assert 'href="/practice/weekly-quizzes-year-7-maths/edit"' not in eve.get(
        "/practice/weekly-quizzes-year-7-maths").text
    base = re.search(r'name="base_hash" value="([0-9a-f]+)"', html).group(1)  # type: ignore
    text = (site.settings.practice_dir / "weekly-quizzes-year-7-maths.md").read_text()
    sub, _ = site.workflow().save(site.user(CARA), kind="edit",
                                  slug="weekly-quizzes-year-7-maths",
                                  text=text.replace("Every Friday", "Every Monday"),
                                  submit=True, base_hash=base)
    queue = site.client("mod@example.org").get("/moderation").text
    assert "Changes and preview" in queue
    assert re.search(r'class="diff-del">.*Every Friday', queue)
    assert re.search(r'class="diff-add">.*Every Monday', queue)
    api = site.client("mod@example.org").get("/api/moderation").json()
    assert api[0]["submission"]["id"] == sub.id and ["add", "Every Monday each class sat a "
                                                     "ten-question quiz. Half of the questions"
                                                     " came from earlier units."] in \
        [list(d) for d in api[0]["diff"]] or any(d[0] == "add" for d in api[0]["diff"])


def test_api_twins_create_preview_review_and_history(site: Site) -> None:
    cara = site.client(CARA)
    token = cara.get("/api/me").json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    text = build_text(Fields(**good_form()))
    preview = cara.post("/api/preview", json={"markdown": text}, headers=headers).json()
    assert preview["problems"] == [] and 'id="impact"' in preview["html"]
    created = cara.post("/api/submissions", json={"markdown": text, "submit": True,
                                                  "idempotency_key": "abc"}, headers=headers)
    assert created.status_code == 201
    sub = created.json()["submission"]
    assert sub["slug"] == "older-pupils-reading-with-younger-ones"
    again = cara.post("/api/submissions", json={"markdown": text, "submit": True,
                                                "idempotency_key": "abc"}, headers=headers)
    assert again.json()["submission"]["id"] == sub["id"]
    assert [s["id"] for s in cara.get("/api/submissions").json()] == [sub["id"]]
    mod = site.client("mod@example.org")
    mod_headers = {"X-CSRF-Token": mod.get("/api/me").json()["csrf_token"]}
    approved = mod.post(f"/api/moderation/{sub['id']}/approve", json={"comment": "thanks"},
                        headers=mod_headers)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    twice = mod.post(f"/api/moderation/{sub['id']}/approve", json={}, headers=mod_headers)
    assert twice.status_code == 409
    history = site.client(None).get(f"/api/practices/{sub['slug']}/revisions").json()
    assert [r["number"] for r in history] == [1] and history[0]["author"] == "Cara Contributor"
    bad = cara.post("/api/submissions", json={"markdown": text, "slug": "../x"},
                    headers=headers).json()
    assert any(p["field"] == "slug" for p in bad["problems"])


def test_api_restore_publishes_an_earlier_revision_again(site: Site) -> None:
    flow = site.workflow()
    cara, slug = site.user(CARA), "weekly-quizzes-year-7-maths"  # Brackenford, Cara's family
    original, base = flow.base_for_edit(cara, slug)
    sub, _ = flow.save(cara, kind="edit", slug=slug, submit=True, base_hash=base,
                       text=original.replace("rose from 54% to 61%", "rose from 54% to 63%"))
    flow.approve(site.user("mod@example.org"), sub.id)
    mod = site.client("mod@example.org")
    headers = {"X-CSRF-Token": mod.get("/api/me").json()["csrf_token"]}
    restored = mod.post(f"/api/practices/{slug}/revisions/1/restore", headers=headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["number"] == 3 and restored.json()["summary"] == "restored revision 1"
    assert (site.settings.practice_dir / f"{slug}.md").read_text(encoding="utf-8") == original
    assert "54% to 61%" in site.client(None).get(f"/api/practices/{slug}").json()["body_markdown"]
    again = mod.post(f"/api/practices/{slug}/revisions/3/restore", headers=headers)
    assert again.status_code == 422 and "already the published version" in again.json()["detail"]


# -- reliability row 27: wrong types and unknown fields in a write body -----------------------

@pytest.mark.parametrize("changes, field", [
    ({"submitt": True}, "submitt"),  # a misspelt field was silently dropped: saved, not sent
    ({"markdown": 5}, "markdown"),
    ({"slug": ["a", "b"]}, "slug"),
    ({"submit": "perhaps"}, "submit"),
])
def test_a_write_body_with_a_wrong_type_or_unknown_field_is_422_and_stores_nothing(
        site: Site, changes: dict[str, Any], field: str) -> None:
    cara = site.client(CARA)
    headers = {"X-CSRF-Token": cara.get("/api/me").json()["csrf_token"]}
    body = {"markdown": build_text(Fields(**good_form())), "slug": "typed", "submit": True}
    response = cara.post("/api/submissions", json={**body, **changes}, headers=headers)
    assert response.status_code == 422 and field in response.json()["detail"], response.text
    assert site.count("submissions") == 0
    sub, _ = site.workflow().save(site.user(CARA), kind="new", slug="typed",
                                  text=body["markdown"], submit=True)
    mod = site.client("mod@example.org")
    decided = mod.post(f"/api/moderation/{sub.id}/approve", json={"coment": "typo"},
                       headers={"X-CSRF-Token": mod.get("/api/me").json()["csrf_token"]})
    assert decided.status_code == 422 and "coment" in decided.json()["detail"]
    assert site.workflow().get(site.user(CARA), sub.id).status == "pending"
