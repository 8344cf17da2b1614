"""Web administration: finding people, changing roles and schools, disabling and enabling,
and the audit log, filtered and paged (the same functions as `kb user` and `kb audit`)."""

from __future__ import annotations

from support_accounts import Site, csrf_of
from test_web import check_page

from kb.state import audit


def change(site: Site, **data: str) -> object:
    admin = site.client("admin@example.org")
    token = csrf_of(admin.get("/admin/people").text)
    return admin.post("/admin/people", data={"csrf_token": token, **data})


def test_admins_find_people_and_change_them(site: Site) -> None:
    admin = site.client("admin@example.org")
    page = admin.get("/admin/people?q=example.org")
    assert page.status_code == 200 and "cara@example.org" in page.text
    check_page(page.text)
    found = admin.get("/admin/people?q=Eastmere")
    assert "eve@example.org" in found.text and "cara@example.org" not in found.text
    assert "0 people" in admin.get("/admin/people?q=%25_").text  # LIKE wildcards are words

    reader_session = site.client("reader@example.org")
    assert change(site, email="reader@example.org", action="role",
                  role="contributor").status_code == 422  # a contributor needs a school
    assert change(site, email="reader@example.org", action="school",
                  school="tollgate-primary").status_code == 303
    assert change(site, email="reader@example.org", action="role",
                  role="family-lead").status_code == 303
    user = site.user("reader@example.org")
    assert (user.role, user.school) == ("family-lead", "tollgate-primary")
    assert "Signed in as" not in reader_session.get("/").text  # sessions ended on change

    assert change(site, email="eve@example.org", action="disable").status_code == 303
    assert site.user("eve@example.org").disabled
    assert change(site, email="eve@example.org", action="enable").status_code == 303
    assert not site.user("eve@example.org").disabled
    own = change(site, email="admin@example.org", action="disable")
    assert own.status_code == 422 and "yourself" in own.text  # type: ignore[attr-defined]
    assert change(site, email="nobody@example.org", action="disable").status_code == 422
    assert change(site, email="eve@example.org", action="explode").status_code == 422
    assert site.client("mod@example.org").get("/admin/people").status_code == 403


def test_the_audit_log_is_filtered_and_paged(site: Site) -> None:
    for n in range(60):
        change(site, email="eve@example.org", action="disable" if n % 2 == 0 else "enable")
    admin = site.client("admin@example.org")
    page = admin.get("/admin/audit?action=user.&target=user:eve")
    assert page.status_code == 200
    check_page(page.text)
    # 60 changes and the account's creation (user.add), 50 a page
    assert "61 entries; page 1 of 2." in page.text and "Older" in page.text
    second = admin.get("/admin/audit?action=user.&target=user:eve&page=2")
    assert "page 2 of 2" in second.text and "Newer" in second.text
    assert admin.get("/admin/audit?page=0").status_code == 422
    mine = audit.search(site.store, actor="admin@example.org", action="user.disable")
    assert mine.total == 30
    assert admin.get("/admin/audit?actor=nobody").text.count("<tr>") == 1  # header only


def test_kb_user_set_school_moves_an_account(site: Site) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    base = ["--content-dir", str(site.settings.content_dir), "--data-dir",
            str(site.settings.data_dir)]
    moved = CliRunner().invoke(cli, [*base, "user", "set-school", "cara@example.org",
                                     "Eastmere Academy"], catch_exceptions=False)
    assert moved.exit_code == 0 and "eastmere-academy" in moved.output
    assert site.user("cara@example.org").family == site.user("eve@example.org").family
    bad = CliRunner().invoke(cli, [*base, "user", "set-school", "cara@example.org", ""])
    assert bad.exit_code == 1 and "belongs to a school" in bad.output
