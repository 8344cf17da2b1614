"""Every page in every role, in a real Chromium at 1280 and 320 CSS px: nothing wider than the
screen (WCAG 1.4.10 reflow) and no axe-core violation of WCAG 2.2 AA."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from support_accounts import ROLE_PEOPLE, Site, open_site
from support_browser import chromium, serve
from support_pages import (
    ROLES,
    add_curation,
    add_wide_writeup,
    axe_script,
    html_pages,
    measure,
    seed,
)

from indexer.pipeline import index_content
from kb.settings import Settings
from kb.state.accounts import LoginPolicy, start_session

pytestmark = pytest.mark.browser
WIDTHS = (1280, 320)


@pytest.fixture(scope="module")
def seeded(built: Settings, embedder: Any, users_template: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Site, dict]]:
    """One live server over a private library with collections, a programme and some work
    in progress, shared by every role."""
    from webapp.app import create_app

    base = tmp_path_factory.mktemp("pages")
    shutil.copytree(built.content_dir, base / "content")
    shutil.copytree(built.index_dir, base / "var" / "index",
                    ignore=shutil.ignore_patterns(".lock"))
    settings = Settings(content_dir=base / "content", data_dir=base / "var")
    add_curation(settings)
    add_wide_writeup(settings)
    index_content(settings, embedder, progress=False)  # incremental: embeds the one new file
    for site in open_site(settings, embedder, users_template):
        values = seed(site)
        with serve(create_app(settings, embedder=embedder, update_on_start=False)) as url:
            yield url, site, values


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def signed_in(browser: Any, url: str, site: Site, role: str) -> Any:
    """A browser context carrying a real session for `role` (anonymous: none)."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    if role != "anonymous":
        token = start_session(site.store, site.user(ROLE_PEOPLE[role]), LoginPolicy())
        context.add_cookies([{"name": "kb_session", "value": token, "url": url}])
    return context


def check_role(browser: Any, url: str, site: Site, seeded: dict, role: str
               ) -> tuple[list[str], list[dict]]:
    """Visit every page as `role`; return the failures and one row per page and width."""
    axe = axe_script()
    context = signed_in(browser, url, site, role)
    page = context.new_page()
    failures, rows, refused = [], [], set()
    for template, address in html_pages(site.app, seeded):
        response = page.goto(url + address)
        status = response.status if response else 0
        where = page.url.replace(url, "")
        # Pages this role may not see end on the sign-in page or an error page: check one.
        kind = "login" if where.startswith("/login") else str(status)
        if kind != "200":
            if kind in refused:
                continue
            refused.add(kind)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            found = measure(page, axe)
            rows.append({"role": role, "page": template, "address": address, "status": kind,
                         "width": width, **found})
            if found["scroll"] > width:
                failures.append(f"{role} {address} at {width}px: {found['scroll']}px wide "
                                f"({found['what']})")
            for violation in found["violations"]:
                failures.append(f"{role} {address} at {width}px: {violation}")
    context.close()
    return failures, rows


@pytest.mark.parametrize("role", ROLES)
def test_every_page_reflows_and_passes_axe(seeded: tuple[str, Site, dict], browser: Any,
                                           role: str) -> None:
    url, site, values = seeded
    failures, rows = check_role(browser, url, site, values, role)
    report = os.environ.get("KB_A11Y_REPORT")
    if report:  # a table of every page for the record (see README: development)
        with open(report, "a", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row) + "\n")
    assert len({r["page"] for r in rows}) >= (30 if role == "admin" else 15)
    assert not failures, "\n".join(failures)
