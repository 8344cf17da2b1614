"""Session materials through the real app: uploads (multipart, CSRF, roles), listing and
download, search finding the holding write-up or collection through a worksheet's words (real
index, real model), the handout pack with the PDFs appended, and every refusal."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from support_accounts import Site, csrf_of, open_site, with_settings
from support_materials import (
    docx_bytes,
    encrypted_pdf_bytes,
    odt_bytes,
    pdf_bytes,
    png_bytes,
    pptx_bytes,
    zip_bomb_docx,
)
from test_collections import library_with_collections

from cli.main import cli
from indexer.pipeline import index_content
from kb.settings import Settings

WRITEUP = "weekly-quizzes-year-7-maths"
OTHER = "whole-class-feedback-science"
COLLECTION = "maths-tuition-and-quizzes"
CURATOR, MODERATOR = "cpd@example.org", "mod@example.org"
CONTRIBUTOR, READER = "cara@example.org", "reader@example.org"
LIMIT = 400_000
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: Any,
         users_template: Path) -> Iterator[Site]:
    settings = with_settings(library_with_collections(tmp_path_factory.mktemp("materials")),
                             max_material_bytes=LIMIT)
    index_content(settings, embedder, progress=False)
    yield from open_site(settings, embedder, users_template)


def folder(site: Site, owner: str, slug: str) -> Path:
    return site.settings.content_dir / "materials" / owner / slug


def stored(site: Site, owner: str, slug: str) -> list[str]:
    path = folder(site, owner, slug)
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else []


def upload(site: Site, email: str | None, page: str, action: str, name: str, data: bytes,
           mime: str = "application/octet-stream", token: str | None = None) -> Any:
    client = site.client(email)
    if token is None:
        token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token}, files={"file": (name, data, mime)})


def test_a_worksheet_is_listed_downloadable_and_its_words_find_the_writeup(site: Site) -> None:
    data = docx_bytes("Quiz worksheet", "Each pupil completes the zanzibarite puzzle grid.")
    response = upload(site, CURATOR, f"/practice/{WRITEUP}", f"/practice/{WRITEUP}/materials",
                      "Quiz worksheet.docx", data, mime="application/pdf")
    assert response.status_code == 303, response.text[:500]
    assert stored(site, "practice", WRITEUP) == ["Quiz worksheet.docx"]

    page = site.client().get(f"/practice/{WRITEUP}").text
    assert "Quiz worksheet.docx" in page and "Word document" in page
    assert f"{len(data) // 1000} KB" in page or f"{round(len(data) / 1000)} KB" in page
    assert 'action="/practice/' not in page  # no upload form for a visitor

    got = site.client().get(f"/practice/{WRITEUP}/materials/Quiz%20worksheet.docx")
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == DOCX  # from the content, not what the browser said
    assert got.headers["content-disposition"] == 'attachment; filename="Quiz worksheet.docx"'
    assert got.headers["x-content-type-options"] == "nosniff"

    found = site.client().get("/api/search", params={"q": "zanzibarite"}).json()
    assert found["results"][0]["slug"] == WRITEUP
    assert found["results"][0]["reasons"]["attachment"] == "Quiz worksheet.docx"
    html = site.client().get("/search", params={"q": "zanzibarite"}).text
    assert "Found in the attached file “Quiz worksheet.docx”" in html

    listed = site.client().get(f"/api/practices/{WRITEUP}/materials").json()
    assert listed["results"][0]["label"] == "Word document"
    assert listed["results"][0]["kind"] == "docx"


def test_slides_uploaded_by_a_moderator_are_searchable(site: Site) -> None:
    response = upload(site, MODERATOR, f"/practice/{OTHER}/materials",
                      f"/practice/{OTHER}/materials", "feedback slides.pptx",
                      pptx_bytes("Whole-class feedback", "Mark the quokkaphobic errors first"))
    assert response.status_code == 303
    found = site.client().get("/api/search", params={"q": "quokkaphobic"}).json()
    assert found["results"][0]["slug"] == OTHER


def test_a_collection_pack_lists_materials_and_appends_their_pdf_pages(site: Site) -> None:
    client = site.client(CURATOR)
    before = len(PdfReader(io.BytesIO(
        client.get(f"/collections/{COLLECTION}/handout.pdf").content)).pages)
    edit = f"/collections/{COLLECTION}/edit"
    assert f'action="/collections/{COLLECTION}/materials" enctype="multipart/form-data"' in \
        client.get(edit).text
    assert upload(site, CURATOR, edit, f"/collections/{COLLECTION}/materials", "starter.pdf",
                  pdf_bytes("Starter one: number bonds", "Starter two: times tables")
                  ).status_code == 303
    assert upload(site, CURATOR, edit, f"/collections/{COLLECTION}/materials",
                  "tutor guide.odt", odt_bytes("Tutors use the wombatlike prompts")
                  ).status_code == 303

    page = client.get(f"/collections/{COLLECTION}").text
    assert "starter.pdf" in page and "PDF document" in page and "OpenDocument text" in page
    pdf = client.get(f"/collections/{COLLECTION}/handout.pdf").content
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == before + 2
    assert "number bonds" in reader.pages[-2].extract_text()
    assert "times tables" in reader.pages[-1].extract_text()
    cover = " ".join(p.extract_text() for p in reader.pages[:before])
    assert f"/collections/{COLLECTION}/materials/tutor%20guide.odt" in cover.replace("\n", "")

    with zipfile.ZipFile(io.BytesIO(client.get(
            f"/collections/{COLLECTION}/handout.zip").content)) as archive:
        names = archive.namelist()
        session = archive.read(f"{COLLECTION}/00-session.md").decode()
    assert f"{COLLECTION}/materials/starter.pdf" in names
    assert f"http://testserver/collections/{COLLECTION}/materials/starter.pdf" in session

    found = site.client().get("/api/search", params={"q": "wombatlike prompts"}).json()
    assert [(c["slug"], c["found_in"]) for c in found["collections"]] == \
        [(COLLECTION, "tutor guide.odt")]
    html = site.client().get("/search", params={"q": "wombatlike prompts"}).text
    assert "Found in the attached file “tutor guide.odt”" in html


@pytest.mark.parametrize("name, make, says", [
    ("plan.pdf", lambda: docx_bytes("a Word file in disguise"),
     "“plan.pdf” is named as a PDF document but its content is a Word document"),
    ("big.png", lambda: png_bytes(LIMIT), "“big.png” is 400 KB; files may be up to 400 KB"),
    ("secret.pdf", encrypted_pdf_bytes, "“secret.pdf” is an encrypted"),
    ("report.docx", zip_bomb_docx, "“report.docx” has a part that unpacks"),
    ("page.docx", lambda: b"<html><script>alert(1)</script></html>", "“page.docx” is named"),
])
def test_bad_uploads_are_refused_in_plain_words_and_nothing_is_stored(
        site: Site, name: str, make: Any, says: str) -> None:
    before = stored(site, "practice", OTHER)
    response = upload(site, CURATOR, f"/practice/{OTHER}/materials",
                      f"/practice/{OTHER}/materials", name, make())
    assert response.status_code == 422
    assert says in response.text.replace("&#34;", '"')
    assert 'aria-invalid="true"' in response.text
    assert stored(site, "practice", OTHER) == before


def test_an_upload_past_every_body_limit_gets_a_413_before_it_is_read(site: Site) -> None:
    # the limit on bodies is the larger of KB_MAX_BODY_BYTES (1 MB) and a material + 100 kB
    response = upload(site, CURATOR, f"/practice/{OTHER}/materials",
                      f"/practice/{OTHER}/materials", "huge.png", png_bytes(1_200_000))
    assert response.status_code == 413
    assert "huge.png" not in stored(site, "practice", OTHER)


def test_a_path_in_the_file_name_never_leaves_the_folder(site: Site) -> None:
    response = upload(site, CURATOR, f"/practice/{OTHER}/materials",
                      f"/practice/{OTHER}/materials", "../../../../escape.png", png_bytes())
    assert response.status_code == 303
    assert "escape.png" in stored(site, "practice", OTHER)
    assert not list(site.settings.content_dir.parent.glob("**/escape.png"))[1:]
    assert not (site.settings.content_dir / "escape.png").exists()
    client = site.client()
    assert client.get(f"/practice/{OTHER}/materials/..%2F..%2F..%2Fschools.yaml"
                      ).status_code == 404
    assert client.get(f"/practice/{OTHER}/materials/schools.yaml").status_code == 404


def test_without_the_csrf_token_nothing_is_stored(site: Site) -> None:
    response = upload(site, CURATOR, f"/practice/{OTHER}/materials",
                      f"/practice/{OTHER}/materials", "nocsrf.png", png_bytes(), token="x")
    assert response.status_code == 403
    assert "nocsrf.png" not in stored(site, "practice", OTHER)


@pytest.mark.parametrize("email, status", [(READER, 403), (CONTRIBUTOR, 403), (None, 303)])
def test_people_who_may_not_attach_are_refused(site: Site, email: str | None,
                                                status: int) -> None:
    page = f"/practice/{OTHER}/materials"
    # a signed-in person's real token: refused for the role, not for the token
    token = csrf_of(site.client(email).get(f"/practice/{OTHER}").text) if email else "none"
    response = upload(site, email, page, page, f"by-{email}.png", png_bytes(), token=token)
    assert response.status_code == status  # anonymous: sent to sign in
    if email is None:
        assert response.headers["location"].startswith("/login")
    assert f"by-{email}.png" not in stored(site, "practice", OTHER)
    removal = site.client(email).post(f"/practice/{OTHER}/materials/escape.png/remove",
                                      data={"csrf_token": token})
    assert removal.status_code == status


def test_a_contributor_may_attach_to_a_writeup_they_wrote(site: Site) -> None:
    user = site.user(CONTRIBUTOR)
    conn = sqlite3.connect(site.settings.state_path)
    with conn:
        conn.execute("INSERT INTO submissions (user_id, kind, slug, text, status, created_at, "
                     "updated_at) VALUES (?, 'new', ?, '', 'approved', '2024-01-01', "
                     "'2024-01-01')", (user.id, WRITEUP))
    conn.close()
    page = site.client(CONTRIBUTOR).get(f"/practice/{WRITEUP}").text
    assert f'action="/practice/{WRITEUP}/materials"' in page
    assert upload(site, CONTRIBUTOR, f"/practice/{WRITEUP}", f"/practice/{WRITEUP}/materials",
                  "photo of the board.png", png_bytes()).status_code == 303


def test_a_contributor_may_not_attach_to_a_collection(site: Site) -> None:
    page = f"/collections/{COLLECTION}/materials"
    token = csrf_of(site.client(CONTRIBUTOR).get(f"/practice/{OTHER}").text)
    response = upload(site, CONTRIBUTOR, page, page, "mine.png", png_bytes(), token=token)
    assert response.status_code == 403
    assert "mine.png" not in stored(site, "collections", COLLECTION)


def test_curators_remove_a_file_and_both_changes_are_audited(site: Site) -> None:
    client = site.client(CURATOR)
    page = f"/practice/{OTHER}/materials"
    assert upload(site, CURATOR, page, page, "old.docx",
                  docx_bytes("The platypoidal routine")).status_code == 303
    assert site.client().get("/api/search", params={"q": "platypoidal"}).json()["total"]
    token = csrf_of(client.get(page).text)
    response = client.post(f"/practice/{OTHER}/materials/old.docx/remove",
                           data={"csrf_token": token})
    assert response.status_code == 303
    assert "old.docx" not in stored(site, "practice", OTHER)
    assert site.client().get("/api/search", params={"q": "platypoidal"}).json()["total"] == 0
    conn = sqlite3.connect(site.settings.state_path)
    actions = [r[0] for r in conn.execute(
        "SELECT action FROM audit_log WHERE target=? AND detail LIKE 'old.docx%' ORDER BY id",
        (f"practice:{OTHER}",))]
    conn.close()
    assert actions == ["material.add", "material.remove"]
    assert client.post(f"/practice/{OTHER}/materials/old.docx/remove",
                       data={"csrf_token": token}).status_code == 404


def test_a_broken_material_is_reported_and_skipped_by_validate_and_index(site: Site) -> None:
    settings: Settings = site.settings
    broken = folder(site, "practice", WRITEUP) / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 cut short")
    try:
        args = ["--content-dir", str(settings.content_dir), "--data-dir", str(settings.data_dir)]
        result = CliRunner().invoke(cli, [*args, "validate"], catch_exceptions=False)
        assert result.exit_code == 1
        assert f"content/materials/practice/{WRITEUP}/broken.docx: skipped: “broken.docx” is " \
            "damaged" in result.output
        assert "1 attached file(s) cannot be used" in result.output
        result = CliRunner().invoke(cli, [*args, "index", "--quiet"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert f"skipped attached file: content/materials/practice/{WRITEUP}/broken.docx" in \
            result.output
        found = site.client().get("/api/search", params={"q": "zanzibarite"}).json()
        assert found["results"][0]["slug"] == WRITEUP  # the good worksheet still counts
    finally:
        broken.unlink()
