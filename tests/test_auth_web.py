"""Signing in and out on the web, sessions and cookies, throttling, CSRF, security headers,
and the role x route matrix built from app.routes (reliability rows 20, 26, 31-34)."""

from __future__ import annotations

import re
import time
from typing import Any, Iterator

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from support_accounts import (
    PASSWORD,
    PEOPLE,
    ROLE_PEOPLE,
    Site,
    csrf_of,
    good_form,
    open_site,
    with_settings,
)
from test_web import check_page

from kb.settings import Settings
from kb.workflows.contribution import Fields, build_text
from webapp.deps import RoleGate

TEXT = build_text(Fields(**good_form()))
SLUG = "weekly-quizzes-year-7-maths"  # a Brackenford write-up in the fixture library

# Every route that is deliberately open to anonymous readers. A new route must either take
# a role gate (webapp.deps.require_role) or be added here on purpose.
PUBLIC = {
    ("GET", "/"), ("GET", "/search"), ("GET", "/practice/{slug}"), ("GET", "/subjects"),
    ("GET", "/subjects/{term_id}"), ("GET", "/interventions"),
    ("GET", "/interventions/{term_id}"), ("GET", "/login"), ("POST", "/login"),
    ("GET", "/logout"), ("GET", "/api/search"), ("GET", "/api/practices"),
    ("GET", "/api/practices/{slug}"), ("GET", "/api/taxonomy"), ("GET", "/api/health"),
    ("POST", "/api/login"), ("GET", "/api/practices/{slug}/revisions"),
    ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/static"),
    # Reading pages for teachers: schools, families, coverage, feeds, collections, programmes.
    ("GET", "/schools/{school_id}"), ("GET", "/families"), ("GET", "/families/{family_id}"),
    ("GET", "/api/schools/{school_id}"),  # the school page's JSON twin (issue 19)
    ("GET", "/coverage"), ("GET", "/feed.atom"),
    ("GET", "/collections"), ("GET", "/collections/{slug}"),
    ("GET", "/collections/{slug}/print"), ("GET", "/collections/{slug}/handout.pdf"),
    ("GET", "/collections/{slug}/handout.zip"), ("GET", "/programmes"),
    ("GET", "/programmes/{slug}"), ("GET", "/programmes/{slug}/print"),
    ("GET", "/programmes/{slug}/timetable.pdf"), ("GET", "/api/collections"),
    ("GET", "/api/collections/{slug}"), ("GET", "/api/programmes"),
    ("GET", "/api/programmes/{slug}"),
    # Taking it away (issue 16): one write-up printed or as a PDF, the open download.
    ("GET", "/practice/{slug}/print"), ("GET", "/practice/{slug}/writeup.pdf"),
    ("GET", "/download"), ("GET", "/download/library.zip"), ("GET", "/api/library.jsonl"),
    # Joining and getting back in (issue 17): the link's token is the credential; POSTs check
    # the pre-session CSRF token.
    ("GET", "/invite/{token}"), ("POST", "/invite/{token}"), ("GET", "/forgot"),
    ("POST", "/forgot"), ("GET", "/reset/{token}"), ("POST", "/reset/{token}"),
    # Places left in each inset-day session: counts only, shown on the public grid too.
    ("GET", "/api/programmes/{slug}/places"),
    # Session materials (issue 18): the files pages, downloads and their JSON twins are public
    # like the write-ups and collections that hold them; changing them is gated.
    ("GET", "/practice/{slug}/materials"), ("GET", "/practice/{slug}/materials/{name}"),
    ("GET", "/collections/{slug}/materials"), ("GET", "/collections/{slug}/materials/{name}"),
    ("GET", "/api/practices/{slug}/materials"), ("GET", "/api/collections/{slug}/materials"),
}


def login_form(client: TestClient, email: str, password: str, **extra: str) -> Any:
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_of(page.text), **extra})


# -- signing in and out ------------------------------------------------------------------

def test_login_page_is_accessible_and_sign_in_works(site: Site) -> None:
    client = TestClient(site.app, follow_redirects=False)
    page = client.get("/login?next=/moderation")
    assert page.status_code == 200 and "Sign in" in page.text
    check_page(page.text)
    response = login_form(client, "MOD@example.org", PASSWORD, next="/moderation")
    assert response.status_code == 303 and response.headers["location"] == "/moderation"
    home = client.get("/")
    assert "Signed in as Mo Moderator" in home.text and 'href="/moderation"' in home.text
    assert "Cache-Control" in home.headers and "no-store" in home.headers["Cache-Control"]


def test_wrong_password_is_refused_without_saying_which_part(site: Site) -> None:
    client = TestClient(site.app, follow_redirects=False)
    wrong = login_form(client, "mod@example.org", "not the password")
    unknown = login_form(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "were not recognised" in wrong.text and "were not recognised" in unknown.text
    assert "kb_session" not in wrong.headers.get("set-cookie", "")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_next_cannot_redirect_off_site(site: Site, target: str) -> None:
    client = TestClient(site.app, follow_redirects=False)
    response = login_form(client, "mod@example.org", PASSWORD, next=target)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_cookie_flags_over_https_and_a_new_session_id_at_login(site: Site) -> None:
    """Reliability row 32: __Host- name, Secure, HttpOnly, SameSite=Lax; no fixation."""
    client = TestClient(site.app, base_url="https://testserver", follow_redirects=False)
    client.cookies.set("__Host-kb_session", "attacker-chosen-value")
    response = login_form(client, "cara@example.org", PASSWORD)
    cookie = [c for c in response.headers.get_list("set-cookie")
              if c.startswith("__Host-kb_session=")][0]
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    assert not any(f.startswith("domain") for f in flags)
    new_id = cookie.split(";")[0].split("=", 1)[1]
    assert new_id != "attacker-chosen-value" and len(new_id) >= 40
    assert client.get("/api/me").json()["email"] == "cara@example.org"
    # A second sign-in from a signed-in browser replaces the session id again.
    second = login_form(client, "cara@example.org", PASSWORD)
    newer = second.cookies.get("__Host-kb_session")
    assert newer and newer != new_id
    replay = TestClient(site.app, base_url="https://testserver", follow_redirects=False)
    replay.cookies.set("__Host-kb_session", new_id)
    assert replay.get("/api/me").status_code == 401


def test_plain_http_cookie_is_httponly_lax_and_not_secure(site: Site) -> None:
    client = TestClient(site.app, follow_redirects=False)
    response = login_form(client, "cara@example.org", PASSWORD)
    cookie = [c for c in response.headers.get_list("set-cookie")
              if c.startswith("kb_session=")][0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_logout_invalidates_the_session_server_side(site: Site) -> None:
    client = TestClient(site.app, follow_redirects=False)
    login_form(client, "cara@example.org", PASSWORD)
    old = client.cookies.get("kb_session")
    page = client.get("/logout")
    assert page.status_code == 200 and "Sign out now" in page.text
    assert client.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    replay = TestClient(site.app, follow_redirects=False)
    replay.cookies.set("kb_session", old or "")
    assert replay.get("/api/me").status_code == 401
    response = replay.get("/my/submissions")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_api_sign_in_me_and_sign_out(site: Site) -> None:
    client = TestClient(site.app, follow_redirects=False)
    assert client.post("/api/login", json={"email": "cara@example.org",
                                           "password": "wrong wrong"}).status_code == 401
    me = client.post("/api/login", json={"email": "cara@example.org", "password": PASSWORD})
    assert me.status_code == 200 and me.json()["role"] == "contributor"
    token = me.json()["csrf_token"]
    assert client.post("/api/logout").status_code == 403  # no CSRF header
    assert client.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/me").status_code == 401


def test_api_login_refuses_form_encoded_bodies(site: Site) -> None:
    """A cross-site HTML form cannot send JSON, so it cannot sign a victim in either."""
    client = TestClient(site.app, follow_redirects=False)
    response = client.post("/api/login", data={"email": "cara@example.org",
                                                "password": PASSWORD})
    assert response.status_code == 422 and "kb_session" not in response.headers.get(
        "set-cookie", "")


@pytest.fixture
def slow_site(private: Settings, embedder: Any,
              users_template: Any) -> Iterator[Site]:
    yield from open_site(with_settings(private, login_max_failures=5, login_lockout_seconds=3),
                         embedder, users_template)


def test_password_guessing_is_throttled_then_works_after_the_cool_down(slow_site: Site) -> None:
    """Reliability row 33: 20 bad sign-ins give 429s; a correct one after the cool-down
    works (no permanent lockout)."""
    client = TestClient(slow_site.app, follow_redirects=False)
    statuses = [login_form(client, "cara@example.org", f"guess number {i}").status_code
                for i in range(20)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    locked = login_form(client, "cara@example.org", PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert "try again in" in locked.text
    time.sleep(3.2)
    assert login_form(client, "cara@example.org", PASSWORD).status_code == 303


# -- CSRF (reliability row 20) ---------------------------------------------------------------

def _forms(site: Site) -> list[tuple[str, str, dict[str, Any]]]:
    """(who, path, fields) for every state-changing form, ready to be posted."""
    flow = site.workflow()
    pending, _ = flow.save(site.user("cara@example.org"), kind="new", slug="pending-one",
                           text=TEXT, submit=True)
    draft, _ = flow.save(site.user("cara@example.org"), kind="new", slug="draft-one",
                         text=TEXT, submit=False)
    return [
        ("", "/login", {"email": "cara@example.org", "password": PASSWORD}),
        ("cara@example.org", "/logout", {}),
        ("cara@example.org", "/contribute", {**good_form(), "action": "submit"}),
        ("cara@example.org", f"/my/submissions/{draft.id}", {**good_form(), "action": "save"}),
        ("cara@example.org", f"/my/submissions/{pending.id}/withdraw", {}),
        ("cara@example.org", f"/practice/{SLUG}/edit", {**good_form(), "action": "submit"}),
        ("mod@example.org", f"/moderation/{pending.id}/approve", {"comment": "ok"}),
        ("mod@example.org", f"/moderation/{pending.id}/request-changes", {"comment": "more"}),
        ("mod@example.org", f"/moderation/{pending.id}/reject", {"comment": "no"}),
        ("mod@example.org", f"/practice/{SLUG}/revisions/1/restore", {}),
        ("cpd@example.org", "/collections/new", {"title": "Sneaky", "purpose": "x",
                                                 "subjects": ["maths"], "phases": ["secondary"]}),
    ]


def _state(site: Site) -> tuple[Any, ...]:
    return (site.count("submissions"), site.count("revisions"), site.count("sessions"),
            site.files(), site.count("users"))


@pytest.mark.parametrize("attack", ["no token", "bad token", "token of another session",
                                    "foreign origin", "cross-site fetch"])
def test_forms_without_a_valid_token_are_refused_and_change_nothing(site: Site,
                                                                    attack: str) -> None:
    forms = _forms(site)
    other_token = csrf_of(site.client("eve@example.org").get("/contribute").text)
    for who, path, fields in forms:
        client = site.client(who or None)
        token = csrf_of(client.get("/login").text)
        data, headers = dict(fields), {}
        if attack == "bad token":
            data["csrf_token"] = token[:-4] + "0000"
        elif attack == "token of another session":
            data["csrf_token"] = other_token
        elif attack == "foreign origin":
            data["csrf_token"] = token
            headers["Origin"] = "https://evil.example"
        elif attack == "cross-site fetch":
            data["csrf_token"] = token
            headers["Sec-Fetch-Site"] = "cross-site"
        before = _state(site)
        response = client.post(path, data=data, headers=headers)
        assert response.status_code == 403, (attack, path, response.status_code)
        assert _state(site) == before, (attack, path)


def test_api_writes_need_the_csrf_header(site: Site) -> None:
    client = site.client("cara@example.org")
    before = site.count("submissions")
    body = {"markdown": TEXT, "slug": "api-one", "submit": True}
    assert client.post("/api/submissions", json=body).status_code == 403
    assert client.post("/api/submissions", json=body,
                       headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert site.count("submissions") == before
    token = client.get("/api/me").json()["csrf_token"]
    created = client.post("/api/submissions", json=body, headers={"X-CSRF-Token": token})
    assert created.status_code == 201 and created.json()["submission"]["status"] == "pending"


# -- role x route matrix (reliability rows 26 and 31) -----------------------------------------

def _gate(route: APIRoute) -> RoleGate | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        if isinstance(dependency.call, RoleGate):
            return dependency.call
        stack.extend(dependency.dependencies)
    return None


def _routes(app: Any) -> list[tuple[str, str, RoleGate | None]]:
    out = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        methods = sorted((context.methods or {"GET"}) - {"HEAD"})
        for method in methods:
            gate = _gate(route) if isinstance(route, APIRoute) else None
            # The address template without path types: {submission_id:int} -> {submission_id}.
            out.append((method, re.sub(r":\w+}", "}", context.path), gate))
    return out


def test_anonymous_visitors_are_sent_to_sign_in_or_get_401(site: Site) -> None:
    anonymous = site.client(None)
    for path in ("/contribute", "/my/submissions", "/moderation", "/moderation/1",
                 f"/practice/{SLUG}/edit"):
        response = anonymous.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/login?next={path}"
    for path in ("/api/submissions", "/api/moderation", "/api/me"):
        response = anonymous.get(path)
        assert response.status_code == 401 and "sign in" in response.json()["detail"]
    assert anonymous.post("/api/submissions", json={"markdown": TEXT}).status_code == 401


def test_every_route_is_either_public_on_purpose_or_gated(site: Site) -> None:
    routes = _routes(site.app)
    ungated = {(m, p) for m, p, gate in routes if gate is None}
    assert ungated == PUBLIC, ("classify new routes: public ones in PUBLIC, others behind "
                               f"require_role: {sorted(ungated ^ PUBLIC)}")
    assert len([r for r in routes if r[2] is not None]) >= 25


def test_role_matrix_over_every_gated_route(site: Site) -> None:
    flow = site.workflow()
    pending, _ = flow.save(site.user("cara@example.org"), kind="new", slug="matrix-one",
                           text=TEXT, submit=True)
    flow.approve(site.user("mod@example.org"),
                 flow.save(site.user("cara@example.org"), kind="new", slug="with-revision",
                           text=TEXT, submit=True)[0].id)
    values = {"slug": "with-revision", "submission_id": str(pending.id), "number": "1",
              "request_id": "999999", "report_id": "999999", "writeup": SLUG,
              "inv_id": "999999", "follow_id": "999999", "user_id": "999999",
              # issue 19: school data, priorities and pairings
              "school_id": "ashcombe-academy", "priority_id": "999999",
              "pairing_id": "999999", "name": "no-such-file.pdf",
              # issue 18: the parts of a programme its builder edits
              "room": "r1", "strand": "maths", "start": "09:30"}
    for email in ROLE_PEOPLE.values():
        site.client(email)  # sign everyone in first: sessions are not what is counted
    before = _state(site)
    checked = 0
    for method, path, gate in _routes(site.app):
        if gate is None:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
        is_api = path.startswith("/api")
        anonymous = TestClient(site.app, follow_redirects=False).request(method, url)
        if is_api:
            assert anonymous.status_code == 401, (method, path)
        else:
            assert anonymous.status_code == 303, (method, path)
            assert anonymous.headers["location"].startswith("/login?next=")
        for role, email in ROLE_PEOPLE.items():
            response = site.client(email).request(method, url)
            allowed = role in gate.roles or role == "admin"
            if not allowed:
                assert response.status_code == 403, (role, method, path)
                assert "needs the" in response.text, (role, method, path)
            elif method == "GET":
                assert response.status_code not in (401, 403), (role, method, path)
            else:  # admitted, but no CSRF token was sent: refused before any change
                assert response.status_code == 403 and "expired" in response.text, \
                    (role, method, path)
            checked += 1
    assert checked >= 25 * len(ROLE_PEOPLE)
    assert _state(site) == before


def test_a_contributor_cannot_approve_even_with_a_valid_token(site: Site) -> None:
    flow = site.workflow()
    pending, _ = flow.save(site.user("cara@example.org"), kind="new", slug="try-approve",
                           text=TEXT, submit=True)
    client = site.client("cara@example.org")
    token = csrf_of(client.get("/contribute").text)
    response = client.post(f"/moderation/{pending.id}/approve", data={"csrf_token": token})
    assert response.status_code == 403
    api_token = client.get("/api/me").json()["csrf_token"]
    response = client.post(f"/api/moderation/{pending.id}/approve", json={},
                           headers={"X-CSRF-Token": api_token})
    assert response.status_code == 403
    assert flow.get(site.user("mod@example.org"), pending.id).status == "pending"
    assert not (site.settings.practice_dir / "try-approve.md").exists()


def test_other_peoples_submissions_and_drafts_are_404(site: Site) -> None:
    """Reliability row 26: fetching a draft or another person's submission by id."""
    flow = site.workflow()
    draft, _ = flow.save(site.user("cara@example.org"), kind="new", slug="secret-draft",
                         text=TEXT, submit=False)
    eve = site.client("eve@example.org")
    token = eve.get("/api/me").json()["csrf_token"]
    assert eve.get(f"/my/submissions/{draft.id}").status_code == 404
    assert eve.get(f"/api/submissions/{draft.id}").status_code == 404
    assert eve.put(f"/api/submissions/{draft.id}", json={"markdown": TEXT},
                   headers={"X-CSRF-Token": token}).status_code == 404
    assert eve.post(f"/api/submissions/{draft.id}/withdraw",
                    headers={"X-CSRF-Token": token}).status_code == 404
    assert eve.get("/my/submissions/999999").status_code == 404
    for client in (site.client(None), site.client("mod@example.org")):
        assert client.get("/practice/secret-draft").status_code == 404
        assert "secret-draft" not in client.get("/api/search?q=older+pupils+reading").text
    assert flow.get(site.user("cara@example.org"), draft.id).text == TEXT


# -- security headers everywhere (reliability row 34) ----------------------------------------

def test_security_headers_on_new_pages_errors_and_refusals(site: Site) -> None:
    cara = site.client("cara@example.org")
    responses = [
        site.client(None).get("/login"), site.client(None).get("/contribute"),
        site.client(None).get("/api/submissions"), cara.get("/contribute"),
        cara.get("/my/submissions"), cara.get("/moderation"), cara.get("/my/submissions/999"),
        cara.post("/contribute", data={"action": "save"}),
        cara.post("/contribute", content=b"x" * 2_000_000,
                  headers={"Content-Type": "application/x-www-form-urlencoded"}),
        site.client("mod@example.org").get("/moderation"),
        site.client(None).post("/login", data={}, headers={"Origin": "https://evil.example"}),
    ]
    for response in responses:
        csp = response.headers.get("Content-Security-Policy", "")
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp, response.url
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]


def test_header_shows_links_by_role(site: Site) -> None:
    anonymous = site.client(None).get("/").text
    assert 'href="/login"' in anonymous and 'href="/contribute"' not in anonymous
    reader = site.client("reader@example.org").get("/").text
    assert "Rae Reader" in reader and 'href="/contribute"' not in reader
    cara = site.client("cara@example.org").get("/").text
    assert 'href="/contribute"' in cara and 'href="/my/submissions"' in cara
    assert 'href="/moderation"' not in cara
    admin = site.client("admin@example.org").get("/").text
    assert 'href="/moderation"' in admin and "(admin)" in admin
    check_page(admin)
    assert set(PEOPLE) >= set(ROLE_PEOPLE.values())
