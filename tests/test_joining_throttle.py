"""Throttling on the joining forms (issue 17, reliability rows 33 and 44): asking for a reset
link, using one and accepting an invitation are limited per client address and per account or
e-mail address, by the same mechanism as signing in; past a limit, a plain 429 page with
Retry-After, and other people behind the same address are not held up."""

from __future__ import annotations

import html
import re
import time
from typing import Any

from fastapi.testclient import TestClient
from support_accounts import Site, csrf_of
from test_joining_web import deliver, mailsite  # noqa: F401

from kb.errors import TooManyRequestsError
from kb.state.accounts import LoginPolicy
from kb.workflows import invitations, resets

ADMIN = "admin@example.org"


def anonymous(site: Site, address: str = "10.0.0.7") -> tuple[TestClient, str]:
    client = TestClient(site.app, follow_redirects=False, client=(address, 50000))
    return client, csrf_of(client.get("/forgot").text)


def assert_plain_429(answer: Any) -> int:
    assert answer.status_code == 429, answer.text[:400]
    assert "Too many attempts" in answer.text and "try again in" in answer.text
    assert "Traceback" not in answer.text
    wait = int(answer.headers["Retry-After"])
    assert wait > 0
    message = re.search(r"<h1>Too many attempts</h1>\s*<p>([^<]+)</p>", answer.text)
    assert message and message.group(1)[0].isupper() and message.group(1).endswith(".")
    print(f"429 (Retry-After {wait}): {html.unescape(message.group(1))}")
    return wait


def invite(site: Site, email: str) -> str:
    sent = invitations.invite(site.store, site.app.state.services.directory, site.settings,
                              site.user(ADMIN), email=email, role="reader")
    return "/invite/" + sent.link.rsplit("/", 1)[1]


def reset_link(site: Site, email: str) -> str:
    link = resets.request_reset(site.store, site.settings, email, "cli")
    assert link
    return "/reset/" + link.rsplit("/", 1)[1]


def test_asking_for_reset_links_is_limited_per_address_and_tells_nothing(
        mailsite: Site) -> None:  # noqa: F811
    client, token = anonymous(mailsite)
    limit = mailsite.settings.resets_per_hour
    for email in ("mod@example.org", "nobody@example.org"):  # an account, and none
        for _ in range(limit):
            assert client.post("/forgot", data={"csrf_token": token, "email": email}
                               ).status_code == 200
        refused = client.post("/forgot", data={"csrf_token": token, "email": email})
        wait = assert_plain_429(refused)
        assert 3000 < wait <= 3601  # an hour's window
        assert "If one arrived, it still works" in refused.text
    assert mailsite.count("reset_tokens") == limit  # only the real account got links
    assert deliver(mailsite) == limit
    # Someone else, from the same school address, can still ask.
    assert client.post("/forgot", data={"csrf_token": token, "email": "cara@example.org"}
                       ).status_code == 200


def test_asking_for_reset_links_is_limited_per_client_address(mailsite: Site) -> None:  # noqa: F811
    client, token = anonymous(mailsite, "10.0.0.8")
    most = mailsite.settings.resets_per_hour * resets.CLIENT_FACTOR
    for n in range(most):
        assert client.post("/forgot", data={"csrf_token": token, "email": f"x{n}@y.example"}
                           ).status_code == 200
    assert_plain_429(client.post("/forgot", data={"csrf_token": token,
                                                  "email": "fresh@y.example"}))
    other, other_token = anonymous(mailsite, "10.0.0.9")
    assert other.post("/forgot", data={"csrf_token": other_token, "email": "fresh@y.example"}
                      ).status_code == 200


def test_failed_tries_at_accepting_an_invitation_are_limited_per_invitation(
        mailsite: Site) -> None:  # noqa: F811
    path = invite(mailsite, "nia@ashcombe.example")
    other_path = invite(mailsite, "omar@ashcombe.example")
    client, token = anonymous(mailsite)
    good = "a long enough pass phrase"
    most = mailsite.settings.login_max_failures
    for _ in range(most):
        typo = client.post(path, data={"csrf_token": token, "password": good,
                                       "confirm": good + "!"})
        assert typo.status_code == 422 and "not the same" in typo.text
    wait = assert_plain_429(client.post(path, data={"csrf_token": token, "password": good,
                                                    "confirm": good}))
    assert wait <= mailsite.settings.login_lockout_seconds + 1
    # A colleague behind the same address accepts theirs.
    accepted = client.post(other_path, data={"csrf_token": token, "password": good,
                                             "confirm": good})
    assert accepted.status_code == 303
    # After the wait, the first invitee gets in too (the clock moved on, nothing permanent).
    later = time.time() + mailsite.settings.login_lockout_seconds + 5
    user = invitations.accept(mailsite.store, path.rsplit("/", 1)[1], good, confirm=good,
                              client="10.0.0.7", policy=LoginPolicy(), clock=lambda: later)
    assert user.email == "nia@ashcombe.example"


def test_made_up_invitation_and_reset_links_are_limited_per_client_address(
        mailsite: Site) -> None:  # noqa: F811
    client, token = anonymous(mailsite, "10.0.0.10")
    most = mailsite.settings.login_max_failures * 4  # accounts.IP_FACTOR
    for kind in ("invite", "reset"):
        for n in range(most):
            guess = client.post(f"/{kind}/madeup{kind}{n:04d}xxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                data={"csrf_token": token, "password": "whatever it is",
                                      "confirm": "whatever it is"})
            assert guess.status_code == 404, (kind, n)
        assert_plain_429(client.post(f"/{kind}/onemore", data={
            "csrf_token": token, "password": "whatever it is", "confirm": "whatever it is"}))
    # Real links still work from there (they count per account, not per address).
    path = invite(mailsite, "pat@ashcombe.example")
    assert client.post(path, data={"csrf_token": token, "password": "a long enough phrase",
                                   "confirm": "a long enough phrase"}).status_code == 303


def test_failed_tries_with_a_reset_link_are_limited_per_account(mailsite: Site) -> None:  # noqa: F811
    path = reset_link(mailsite, "cara@example.org")
    client, token = anonymous(mailsite)
    for _ in range(mailsite.settings.login_max_failures):
        short = client.post(path, data={"csrf_token": token, "password": "short",
                                        "confirm": "short"})
        assert short.status_code == 422
    assert_plain_429(client.post(path, data={"csrf_token": token,
                                             "password": "a brand new pass phrase",
                                             "confirm": "a brand new pass phrase"}))
    # Someone else's reset, from the same address, goes through.
    other = reset_link(mailsite, "mod@example.org")
    assert client.post(other, data={"csrf_token": token, "password": "a brand new pass phrase",
                                    "confirm": "a brand new pass phrase"}).status_code == 303


def test_the_library_functions_refuse_with_the_seconds_to_wait(mailsite: Site) -> None:  # noqa: F811
    path = reset_link(mailsite, "eve@example.org")
    token = path.rsplit("/", 1)[1]
    now = time.time()
    policy = LoginPolicy(max_failures=2, lockout_seconds=60)
    for _ in range(2):
        try:
            resets.complete_reset(mailsite.store, mailsite.settings, token, "x", client="c",
                                  policy=policy, clock=lambda: now)
        except TooManyRequestsError:
            raise
        except Exception:
            pass
    try:
        resets.complete_reset(mailsite.store, mailsite.settings, token, "long enough words",
                              client="c", policy=policy, clock=lambda: now + 1)
    except TooManyRequestsError as exc:
        assert exc.retry_after == 60 and "try again in 60 seconds" in str(exc)
    else:
        raise AssertionError("a third try within the window was not refused")
    user = resets.complete_reset(mailsite.store, mailsite.settings, token, "long enough words",
                                 client="c", policy=policy, clock=lambda: now + 61)
    assert user.email == "eve@example.org"
