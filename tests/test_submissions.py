"""The contribution workflow on a real library and state database: drafts, submission,
review outcomes, atomic publication, revisions, restore, clashes and races."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
import workers
from conftest import make_library
from support_accounts import Site, good_form, with_settings

from kb.errors import (
    BadInputError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TooManyRequestsError,
)
from kb.state.database import StateStore, backup
from kb.workflows.contribution import Fields, build_text
from kb.workflows.revisions import history, restore

TEXT = build_text(Fields(**good_form()))


@pytest.fixture
def desk(tmp_path: Path, users_template: Path) -> Site:
    """The workflow over a private copy of the fixture library (no search index: nothing
    here searches) and a state database with PEOPLE in it."""
    settings = make_library(tmp_path)
    settings.data_dir.mkdir(parents=True)
    backup(StateStore(users_template), settings.state_path)
    return Site(settings, None, StateStore(settings.state_path))


def submit(desk: Site, email: str = "cara@example.org", slug: str = "peer-reading",
           text: str = TEXT, **kw: object) -> int:
    sub, problems = desk.workflow().save(desk.user(email), kind="new", slug=slug, text=text,
                                         submit=True, **kw)  # type: ignore[arg-type]
    assert sub.status == "pending", problems
    return sub.id


def test_invalid_submission_is_kept_as_a_draft_with_its_problems(desk: Site) -> None:
    text = TEXT.replace("subjects: [english]", "subjects: []")
    sub, problems = desk.workflow().save(desk.user("cara@example.org"), kind="new",
                                         slug="peer-reading", text=text, submit=True)
    assert sub.status == "draft" and sub.text == text
    assert any(p.field == "subjects" for p in problems)


def test_approval_publishes_the_file_and_records_a_revision(desk: Site) -> None:
    flow = desk.workflow()
    sub_id = submit(desk)
    approved = flow.approve(desk.user("mod@example.org"), sub_id, "Thank you")
    assert approved.status == "approved" and approved.reviewer == "Mo Moderator"
    path = desk.settings.practice_dir / "peer-reading.md"
    assert path.read_text(encoding="utf-8") == TEXT
    [revision] = history(desk.store, "peer-reading")
    assert (revision.number, revision.author, revision.approved_by) == \
        (1, "Cara Contributor", "Mo Moderator")
    assert not list(desk.settings.practice_dir.glob(".*"))  # no temporary files left


def test_two_moderators_approving_at_once_publish_once(desk: Site) -> None:
    flow = desk.workflow()
    sub_id = submit(desk)
    moderators = [desk.user("mod@example.org"), desk.user("mod2@example.org")]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def approve(moderator) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            flow.approve(moderator, sub_id)
            outcomes.append("published")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=approve, args=(m,)) for m in moderators]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "published"]
    assert len(history(desk.store, "peer-reading")) == 1
    assert desk.count("audit_log") and _count_publish(desk) == 1


def _count_publish(desk: Site) -> int:
    import sqlite3

    conn = sqlite3.connect(desk.settings.state_path)
    try:
        return int(conn.execute("SELECT count(*) FROM audit_log WHERE action="
                                "'practice.publish'").fetchone()[0])
    finally:
        conn.close()


def test_approvals_from_separate_worker_processes_publish_once(desk: Site) -> None:
    sub_id = submit(desk)
    ctx = multiprocessing.get_context("spawn")
    results, start = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=workers.approve, args=(desk.settings, sub_id, email, results,
                                                       start))
             for email in ("mod@example.org", "mod2@example.org", "admin@example.org")]
    for proc in procs:
        proc.start()
    start.set()  # all three approve at the same moment
    for proc in procs:
        proc.join(120)
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert outcomes == ["conflict", "conflict", "published"]
    assert len(history(desk.store, "peer-reading")) == 1 and _count_publish(desk) == 1


def test_slug_clash_is_reported_and_never_overwrites(desk: Site) -> None:
    existing = desk.settings.practice_dir / "weekly-quizzes-year-7-maths.md"
    before = existing.read_bytes()
    flow = desk.workflow()
    sub, problems = flow.save(desk.user("cara@example.org"), kind="new",
                              slug="weekly-quizzes-year-7-maths", text=TEXT, submit=True)
    assert sub.status == "draft"
    assert any(p.field == "slug" and "already published" in p.message for p in problems)
    # Two pending proposals for one new slug: the second is told, and if the file appears
    # meanwhile, approval refuses instead of overwriting.
    first = submit(desk, slug="fresh-slug")
    _, problems = flow.save(desk.user("cara@example.org"), kind="new", slug="fresh-slug",
                            text=TEXT, submit=True)
    assert any("another submission" in p.message for p in problems)
    (desk.settings.practice_dir / "fresh-slug.md").write_text("someone else's file")
    with pytest.raises(ConflictError, match="not overwritten"):
        flow.approve(desk.user("mod@example.org"), first)
    assert (desk.settings.practice_dir / "fresh-slug.md").read_text() == "someone else's file"
    assert existing.read_bytes() == before
    assert flow.get(desk.user("mod@example.org"), first).status == "pending"


def test_edit_keeps_the_library_version_and_restore_brings_it_back(desk: Site) -> None:
    flow = desk.workflow()
    cara, mod = desk.user("cara@example.org"), desk.user("mod@example.org")
    slug = "weekly-quizzes-year-7-maths"  # Brackenford, Cara's family
    original, base = flow.base_for_edit(cara, slug)
    edited = original.replace("rose from 54% to 61%", "rose from 54% to 63%")
    sub, _ = flow.save(cara, kind="edit", slug=slug, text=edited, submit=True, base_hash=base,
                       note="corrected the figure")
    flow.approve(mod, sub.id)
    path = desk.settings.practice_dir / f"{slug}.md"
    assert "63%" in path.read_text(encoding="utf-8")
    revisions = history(desk.store, slug)
    assert [r.number for r in revisions] == [2, 1]
    assert revisions[1].author == "library files" and revisions[1].text == original
    assert "Impact" in revisions[0].summary and "corrected the figure" in revisions[0].summary
    restore(desk.store, mod, desk.settings.practice_dir, slug, 1, flow.check)
    assert path.read_text(encoding="utf-8") == original
    assert history(desk.store, slug)[0].summary == "restored revision 1"
    with pytest.raises(BadInputError, match="already the published version"):
        restore(desk.store, mod, desk.settings.practice_dir, slug, 3, flow.check)
    with pytest.raises(PermissionDeniedError):
        restore(desk.store, cara, desk.settings.practice_dir, slug, 2, flow.check)


def test_stale_edit_is_refused_rather_than_losing_the_newer_version(desk: Site) -> None:
    flow = desk.workflow()
    cara = desk.user("cara@example.org")
    slug = "weekly-quizzes-year-7-maths"
    original, base = flow.base_for_edit(cara, slug)
    sub, _ = flow.save(cara, kind="edit", slug=slug, text=original.replace("Friday", "Monday"),
                       submit=True, base_hash=base)
    path = desk.settings.practice_dir / f"{slug}.md"
    path.write_text(original.replace("Friday", "Thursday"), encoding="utf-8")  # a git pull
    with pytest.raises(ConflictError, match="changed since"):
        flow.approve(desk.user("mod@example.org"), sub.id)
    assert "Thursday" in path.read_text(encoding="utf-8")


def test_family_rules_for_contributors(desk: Site) -> None:
    flow = desk.workflow()
    eve = desk.user("eve@example.org")  # Eastmere
    with pytest.raises(PermissionDeniedError, match="own family"):
        flow.base_for_edit(eve, "weekly-quizzes-year-7-maths")  # Brackenford
    _, problems = flow.save(eve, kind="new", slug="eve-one", text=TEXT, submit=True)
    assert any(p.field == "school" and "own family" in p.message for p in problems)
    flow.base_for_edit(desk.user("mod@example.org"), "weekly-quizzes-year-7-maths")
    with pytest.raises(PermissionDeniedError):
        flow.save(desk.user("reader@example.org"), kind="new", slug="x", text=TEXT, submit=True)


def test_outcomes_need_a_moderator_other_than_the_author(desk: Site) -> None:
    flow = desk.workflow()
    sub_id = submit(desk, email="mod@example.org", slug="by-a-moderator")
    with pytest.raises(PermissionDeniedError, match="another moderator"):
        flow.approve(desk.user("mod@example.org"), sub_id)
    with pytest.raises(PermissionDeniedError):
        flow.approve(desk.user("cara@example.org"), sub_id)
    with pytest.raises(BadInputError, match="comment"):
        flow.request_changes(desk.user("mod2@example.org"), sub_id, "  ")
    flow.request_changes(desk.user("mod2@example.org"), sub_id, "Add the numbers")
    sub = flow.get(desk.user("mod@example.org"), sub_id)
    assert (sub.status, sub.comment, sub.reviewer) == ("changes_requested", "Add the numbers",
                                                       "Max Moderator")
    again, _ = flow.save(desk.user("mod@example.org"), kind="new", slug="by-a-moderator",
                         text=TEXT, submit=True, submission_id=sub_id)
    assert again.status == "pending"
    flow.reject(desk.user("admin@example.org"), sub_id, "Out of scope")
    with pytest.raises(ConflictError):
        flow.approve(desk.user("mod2@example.org"), sub_id)


def test_other_peoples_submissions_are_not_found(desk: Site) -> None:
    flow = desk.workflow()
    sub_id = submit(desk)
    for email in ("eve@example.org", "cpd@example.org"):
        with pytest.raises(NotFoundError):
            flow.get(desk.user(email), sub_id)
        with pytest.raises(NotFoundError):
            flow.withdraw(desk.user(email), sub_id)
        with pytest.raises(NotFoundError):
            flow.save(desk.user(email), kind="new", slug="x", text=TEXT, submit=False,
                      submission_id=sub_id)
    assert flow.get(desk.user("mod@example.org"), sub_id).id == sub_id


def test_same_idempotency_key_updates_one_row(desk: Site) -> None:
    flow = desk.workflow()
    cara = desk.user("cara@example.org")
    first, _ = flow.save(cara, kind="new", slug="peer-reading", text=TEXT, submit=True,
                         idempotency_key="k1")
    second, _ = flow.save(cara, kind="new", slug="peer-reading", text=TEXT, submit=True,
                          idempotency_key="k1")
    assert first.id == second.id and desk.count("submissions") == 1


def test_saving_too_often_is_throttled(desk: Site) -> None:
    desk.settings = with_settings(desk.settings, max_submissions_per_hour=3)
    flow = desk.workflow()
    cara = desk.user("cara@example.org")
    for i in range(3):
        flow.save(cara, kind="new", slug=f"s{i}", text=TEXT, submit=False)
    with pytest.raises(TooManyRequestsError):
        flow.save(cara, kind="new", slug="s9", text=TEXT, submit=False)
    assert desk.count("submissions") == 3


def test_a_failure_after_writing_the_file_puts_the_old_file_back(desk: Site) -> None:
    """The file and the database change stand or fall together."""
    from kb.workflows.revisions import add_revision, publishing

    path = desk.settings.practice_dir / "weekly-quizzes-year-7-maths.md"
    original = path.read_bytes()
    with pytest.raises(RuntimeError):
        with publishing(desk.store, path) as (conn, publication):
            add_revision(conn, "weekly-quizzes-year-7-maths", "x", author="a", approved_by="b",
                         summary="never committed")
            publication.write("half-way text")
            assert path.read_text() == "half-way text"
            raise RuntimeError("the commit did not happen")
    assert path.read_bytes() == original
    assert history(desk.store, "weekly-quizzes-year-7-maths") == []
    new = desk.settings.practice_dir / "brand-new.md"
    with pytest.raises(RuntimeError):
        with publishing(desk.store, new) as (_, publication):
            publication.write("text")
            raise RuntimeError("crash")
    assert not new.exists()
