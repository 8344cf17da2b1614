"""Form messages for teachers: what to do, in plain words, on every form; the exact
validator wording stays in the API."""

from __future__ import annotations

import pytest
from support_accounts import Site, csrf_of

from webapp.plain_words import plain_message, plain_sentence

SLUG = "weekly-quizzes-year-7-maths"  # from Ashcombe Academy; Eve is at Eastmere


@pytest.mark.parametrize(("field", "message", "plain"), [
    ("title", "must be non-empty text, got nothing", "Enter a title"),
    ("phase", "must list at least one item", "Choose the phase"),
    ("subjects", "must list at least one item", "Choose at least one subject"),
    ("date", "must be a date written YYYY-MM-DD, got 'soon'",
     "Enter a real date, for example 2024-03-01"),
    ("summary", "is 900 characters; keep it under 600", "Keep it to 600 characters or fewer"),
    ("body", "the write-up has no body text", "Write the write-up: what you did, its impact "
                                              "and how to adopt it"),
])
def test_validator_messages_become_instructions(field: str, message: str, plain: str) -> None:
    assert plain_message(field, message) == plain


def test_workflow_messages_lose_their_field_prefix() -> None:
    assert plain_sentence("message: say what help you would like") == \
        "Say what help you would like"
    assert plain_sentence("context: this needs filling in") == \
        "Say where you tried it: your school, pupils and subject"
    assert plain_sentence("reason: give a reason for rejecting") == "Give a reason for rejecting"


def test_a_small_form_error_is_shown_in_plain_words(site: Site) -> None:
    eve = site.client("eve@example.org")
    page = eve.get(f"/practice/{SLUG}")
    response = eve.post(f"/practice/{SLUG}/support", data={
        "csrf_token": csrf_of(page.text), "kind": "visit", "message": "  "})
    assert response.status_code == 422
    assert "Please check what you entered" in response.text
    assert "Say what help you would like" in response.text
    assert "message:" not in response.text.split("<main", 1)[1]
