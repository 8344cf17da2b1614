"""One error path for every failure (reliability rows 38-40): a 500 keeps the security headers,
quotes an error id and leaves the keep-alive connection usable; ids past 64 bits are 404; HEAD
answers wherever GET does."""

from __future__ import annotations

import http.client
import logging
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount
from support_accounts import Site
from support_browser import serve

from kb.settings import Settings
from kb.state.database import StateStore, backup

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy",
                    "x-frame-options")


def _fail() -> None:
    raise RuntimeError("a bug planted by the test")


@pytest.fixture
def live(private: Settings, embedder: Any, users_template: Path) -> Iterator[str]:
    """A real uvicorn server on loopback whose app has two routes that always fail."""
    from webapp.app import create_app

    private.data_dir.mkdir(parents=True, exist_ok=True)
    backup(StateStore(users_template), private.state_path, overwrite=True)
    app = create_app(private, embedder=embedder, update_on_start=False)
    app.add_api_route("/api/planted-fault", _fail)
    app.add_api_route("/planted-fault", _fail)
    with serve(app) as url:
        yield url


@pytest.mark.parametrize("path", ["/planted-fault", "/api/planted-fault"])
def test_a_500_has_the_security_headers_an_error_id_and_keeps_the_connection_usable(
        live: str, path: str, caplog: pytest.LogCaptureFixture) -> None:
    parts = urlsplit(live)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        with caplog.at_level(logging.ERROR, logger="webapp.errors"):
            conn.request("GET", path)
            first = conn.getresponse()
            body = first.read().decode()
        assert first.status == 500
        for name in SECURITY_HEADERS:
            assert first.getheader(name), f"500 on {path} lacks {name}"
        if path.startswith("/api"):
            assert first.getheader("content-type") == "application/json"
            error_id = re.search(r'"error_id":"([0-9a-f]{8})"', body)
        else:
            assert first.getheader("content-type", "").startswith("text/html")
            error_id = re.search(r'class="error-id">([0-9a-f]{8})<', body)
        assert error_id, body
        assert "RuntimeError" not in body and "planted" not in body  # no internals shown
        logged = [r for r in caplog.records if error_id.group(1) in r.getMessage()]
        assert logged and logged[0].exc_info, "the id is not in the server log with a traceback"
        # The same keep-alive connection answers the next requests (a HEAD, framed right by
        # the real server: headers only, then the next answer).
        conn.request("HEAD", "/")
        head = conn.getresponse()
        assert head.status == 200 and head.read() == b"" and head.getheader("content-length")
        conn.request("GET", "/api/health")
        second = conn.getresponse()
        assert second.status == 200 and b'"status"' in second.read()
    finally:
        conn.close()


# -- ids past 64 bits, negative and not numbers (row 39) ------------------------------------

BAD_IDS = ("9223372036854775808", "99999999999999999999999999", "-1", "abc", "1e3")


def _id_routes(app: Any) -> list[tuple[str, str, str]]:
    """(method, path template, id parameter) for every route with an integer path segment."""
    found = []
    for context in iter_route_contexts(app.routes):
        for name in re.findall(r"\{(\w+):int\}", context.path):
            for method in sorted((context.methods or {"GET"}) - {"HEAD"}):
                found.append((method, context.path, name))
    return found


def test_oversized_negative_and_non_numeric_ids_are_404_on_every_id_route(site: Site) -> None:
    client = site.client("admin@example.org")
    token = client.get("/api/me").json()["csrf_token"]
    table = _id_routes(site.app)
    assert len(table) >= 15, table
    for method, template, name in table:
        for bad in BAD_IDS:
            path = re.sub(r"\{(\w+)(:\w+)?\}",
                          lambda m: bad if m.group(1) == name else "x", template)
            path = path.replace("/practice/x/", "/practice/weekly-quizzes-year-7-maths/")
            response = client.request(method, path, headers={"X-CSRF-Token": token},
                                      data={"csrf_token": token} if method != "GET" else None)
            assert response.status_code == 404, (method, path, response.status_code)


# -- HEAD wherever GET (row 40) --------------------------------------------------------------

VOLATILE = {"date", "set-cookie", "content-security-policy", "content-length", "etag",
            "last-modified", "x-request-id"}


def _get_paths(app: Any) -> list[str]:
    return [context.path for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute)
            and "GET" in (context.methods or ()) and "{" not in context.path]


def test_head_answers_like_get_without_a_body_on_every_page_api_and_static_file(
        site: Site) -> None:
    client = site.client("admin@example.org")
    paths = _get_paths(site.app) + ["/practice/weekly-quizzes-year-7-maths",
                                    "/api/practices/weekly-quizzes-year-7-maths",
                                    "/no-such-page"]
    static = next(r for r in site.app.routes if isinstance(r, Mount) and r.path == "/static")
    first_file = sorted(p for p in Path(static.app.directory).rglob("*") if p.is_file())[0]
    paths.append("/static/" + first_file.relative_to(static.app.directory).as_posix())
    assert "/" in paths and len(paths) > 20
    for path in paths:
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code, (path, get.status_code, head.status_code)
        assert head.content == b"", path
        same = {k for k in get.headers if k not in VOLATILE}
        assert same <= set(head.headers), (path, same - set(head.headers))
        assert head.headers["content-type"] == get.headers["content-type"], path
        for name in SECURITY_HEADERS:
            assert name in head.headers, (path, name)


def test_anonymous_head_on_the_home_page_is_200(site: Site) -> None:
    response = TestClient(site.app).head("/")
    assert response.status_code == 200 and response.content == b""


def test_a_failure_of_our_own_is_a_500_with_an_error_id_and_no_internals(site: Site) -> None:
    from kb.errors import KBError

    def fail_inside() -> None:
        raise KBError("the application database /var/secret/state.db could not be written")

    site.app.add_api_route("/api/planted-kb-fault", fail_inside)
    response = TestClient(site.app, raise_server_exceptions=False).get("/api/planted-kb-fault")
    assert response.status_code == 500
    body = response.json()
    assert re.fullmatch(r"[0-9a-f]{8}", body["error_id"]) and body["error_id"] in body["detail"]
    assert "/var/secret" not in response.text
    for name in SECURITY_HEADERS:
        assert name in response.headers
