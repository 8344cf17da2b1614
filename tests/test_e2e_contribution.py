"""End to end: accounts from the CLI, sign-in and a real form with CSRF, moderation, search by
meaning with the real model, an edit, two revisions, and restoring the first."""

from __future__ import annotations

import re
import time
from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient
from support_accounts import csrf_of, good_form, key_of
from test_web import check_page

from cli.main import cli
from kb.settings import Settings
from webapp.app import create_app

NEW_BODY = """## Context

Many of our Year 8 pupils could decode words but understood little of what they read, and
they avoided reading at home.

## What we did

Sixth-form volunteers met two younger pupils each, three mornings a week for a term. They read
a chapter aloud together, stopped to talk about what had happened and why, and the younger
pupils retold each chapter in their own words.

## Impact

Comprehension scores of 36 pupils rose by eleven standardised points, against four points for
similar pupils who did not take part.

## What we would change

Give the volunteers a short script of questions to ask.

## How to adopt it

Recruit volunteers from Year 12 in September, give them an hour of training, and find a quiet
room for the mornings.
"""
MEANING_QUERY = "older students mentoring younger children to understand books"


def add_user(settings: Settings, email: str, role: str, *extra: str) -> None:
    result = CliRunner().invoke(cli, [
        "--content-dir", str(settings.content_dir), "--data-dir", str(settings.data_dir),
        "user", "add", email, "--role", role, "--password-stdin", *extra],
        input="a sound pass phrase\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output


def sign_in(app: Any, email: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    response = client.post("/login", data={"email": email, "password": "a sound pass phrase",
                                           "csrf_token": csrf_of(page.text)})
    assert response.status_code == 303, response.text[:300]
    return client


def found_by_meaning(client: TestClient, slug: str, query: str, must: str = "") -> dict:
    """Search until the running engine has picked up the new index generation."""
    deadline = time.time() + 10
    while True:
        data = client.get("/api/search", params={"q": query}).json()
        top = [r for r in data["results"][:3] if r["slug"] == slug]
        if top and (not must or must in client.get(f"/practice/{slug}").text):
            return top[0]
        assert time.time() < deadline, [r["slug"] for r in data["results"]]
        time.sleep(0.25)


def article(html: str) -> str:
    return html.split('<article class="practice">', 1)[1].split("</article>", 1)[0]


def test_contribute_moderate_find_edit_and_restore(private: Settings,
                                                   embedder: Any) -> None:
    add_user(private, "teacher@example.org", "contributor", "--school", "Ashcombe Academy",
             "--name", "Tess Teacher")
    add_user(private, "moderator@example.org", "moderator", "--name", "Morgan Moderator")
    app = create_app(private, embedder=embedder, update_on_start=False)
    with TestClient(app):
        teacher = sign_in(app, "teacher@example.org")
        moderator = sign_in(app, "moderator@example.org")

        # The contributor fills in the real form (CSRF token and all) and previews it.
        page = teacher.get("/contribute")
        check_page(page.text)
        fields = {**good_form(title="Sixth formers reading with Year 8",
                              summary="Volunteers from the sixth form read novels with Year 8 "
                                      "pupils and their comprehension improved.",
                              authors="Tess Teacher", body=NEW_BODY, slug="sixth-form-readers"),
                  "csrf_token": csrf_of(page.text), "idempotency_key": key_of(page.text)}
        preview = teacher.post("/contribute", data={**fields, "action": "preview"})
        assert preview.status_code == 200
        submitted = teacher.post("/contribute", data={**fields, "action": "submit"})
        assert submitted.status_code == 303
        assert "Waiting for review" in teacher.get("/my/submissions").text

        # The moderator finds it in the queue and approves it through the review page.
        queue = moderator.get("/moderation").text
        sub_id = re.search(r'href="/moderation/(\d+)">Sixth formers', queue).group(1)  # type: ignore
        review = moderator.get(f"/moderation/{sub_id}")
        assert "passes the same checks" in review.text
        approved = moderator.post(f"/moderation/{sub_id}/approve",
                                  data={"csrf_token": csrf_of(review.text), "comment": "Great"})
        assert approved.status_code == 303 and "done=approved" in approved.headers["location"]
        assert (private.practice_dir / "sixth-form-readers.md").exists()

        # Anyone can now find it by meaning, and it reads exactly as the preview showed.
        reader = TestClient(app)
        hit = found_by_meaning(reader, "sixth-form-readers", MEANING_QUERY)
        assert hit["url"].startswith("/practice/sixth-form-readers")
        published = reader.get("/practice/sixth-form-readers").text
        for start, end in (('<div class="prose">', "</div>"), ("<dl>", "</dl>"),
                           ('<nav class="toc"', "</nav>")):
            shown = article(published).split(start, 1)[1].split(end, 1)[0]
            assert shown == article(preview.text).split(start, 1)[1].split(end, 1)[0]

        # The contributor proposes an edit; the moderator approves it.
        edit_page = teacher.get("/practice/sixth-form-readers/edit")
        assert edit_page.status_code == 200
        edit = {**fields, "body": NEW_BODY.replace("eleven standardised points",
                                                   "twelve standardised points"),
                "note": "corrected the gain", "csrf_token": csrf_of(edit_page.text),
                "idempotency_key": key_of(edit_page.text), "action": "submit"}
        edit.pop("slug")
        assert teacher.post("/practice/sixth-form-readers/edit", data=edit).status_code == 303
        queue = moderator.get("/moderation").text
        assert "Edit to" in queue and "twelve standardised points" in queue
        edit_id = re.search(r'href="/moderation/(\d+)"', queue).group(1)  # type: ignore
        review = moderator.get(f"/moderation/{edit_id}")
        assert moderator.post(f"/moderation/{edit_id}/approve",
                              data={"csrf_token": csrf_of(review.text)}).status_code == 303
        found_by_meaning(reader, "sixth-form-readers", MEANING_QUERY, must="twelve")

        # Two revisions on the write-up page; the moderator restores the first.
        page = moderator.get("/practice/sixth-form-readers").text
        history = page.split('id="history"', 1)[1]
        assert len(re.findall(r"<tr>\s*<td>\d", history)) == 2
        assert "corrected the gain" in history and "Tess Teacher" in history
        assert "approved by Morgan Moderator" in history
        assert "/practice/sixth-form-readers/revisions/1/restore" in history
        restored = moderator.post("/practice/sixth-form-readers/revisions/1/restore",
                                  data={"csrf_token": csrf_of(page)})
        assert restored.status_code == 303
        text = (private.practice_dir / "sixth-form-readers.md").read_text(encoding="utf-8")
        assert "eleven standardised points" in text and "twelve" not in text
        found_by_meaning(reader, "sixth-form-readers", MEANING_QUERY, must="eleven")
        page = moderator.get("/practice/sixth-form-readers").text
        assert "restored revision 1" in page
        assert len(re.findall(r"<tr>\s*<td>\d", page.split('id="history"', 1)[1])) == 3
        # The public history shows who and when, but only moderators get restore buttons.
        public = reader.get("/practice/sixth-form-readers").text
        assert "restored revision 1" in public and "/restore" not in public
