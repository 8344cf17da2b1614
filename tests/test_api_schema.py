"""The published API schema against the answers (reliability row 47): schemathesis, a
third-party fuzzer, drives every operation of a live server, signed in as an admin, and
checks for server errors, undocumented statuses and bodies that break their schema."""

from __future__ import annotations

import time
from typing import Any, Iterator

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks
from support_accounts import Site
from support_browser import serve

CHECKS = [st_checks.not_a_server_error, openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance, openapi_checks.response_schema_conformance]
EXAMPLES = 25


@pytest.fixture
def live_site(site: Site) -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    """The site's app under a real uvicorn server, with an admin's cookie and CSRF token."""
    client = site.client("admin@example.org")
    token = client.get("/api/me").json()["csrf_token"]
    cookies = {"kb_session": client.cookies.get("kb_session") or ""}
    with serve(site.app) as url:
        yield url, cookies, {"X-CSRF-Token": token}


def test_422_bodies_are_what_the_schema_promises(site: Site) -> None:
    schema = site.client(None).get("/openapi.json").json()
    promised = schema["paths"]["/api/search"]["get"]["responses"]["422"]
    assert promised["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"}
    answer = site.client(None).get("/api/search?page=abc")
    assert answer.status_code == 422 and isinstance(answer.json()["detail"], str)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    login = schema["paths"]["/api/login"]["post"]["responses"]
    assert {"401", "413", "422", "429"} <= set(login)
    moderation = schema["paths"]["/api/moderation/{submission_id}/approve"]["post"]
    assert {"401", "403", "404", "409", "413"} <= set(moderation["responses"])


def test_schemathesis_finds_no_server_errors_and_no_schema_violations(
        live_site: tuple[str, dict[str, str], dict[str, str]]) -> None:
    url, cookies, headers = live_site
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    session = requests.Session()
    session.cookies.update(cookies)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    started = time.monotonic()
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None,
                             phases=[Phase.explicit, Phase.generate],
                             suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call(base_url=url, session=session, headers=headers, timeout=30)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:  # collect every operation's findings, then report
                failures.append(f"{operation.label}: {str(exc)[:800]}")

        run()
    took = time.monotonic() - started
    assert not failures, "\n\n".join(failures[:20])
    assert took < 150, took
