"""Taking the library away: one write-up printed or as a PDF, and the whole published library
as an open download (Markdown files and JSON Lines) under a stated licence."""

from __future__ import annotations

import io
import json
import zipfile

from fastapi.testclient import TestClient
from test_collections_cli import pdf_text
from test_web import check_page

SLUG = "weekly-quizzes-year-7-maths"
DRAFT = "unfinished-draft-on-homework"


def test_a_write_up_prints_and_downloads_as_a_pdf(client: TestClient) -> None:
    page = client.get(f"/practice/{SLUG}")
    assert f'href="/practice/{SLUG}/print"' in page.text
    assert f'href="/practice/{SLUG}/writeup.pdf"' in page.text
    printed = client.get(f"/practice/{SLUG}/print")
    assert printed.status_code == 200
    check_page(printed.text)
    assert "Weekly low-stakes quizzes in Year 7 maths" in printed.text
    assert f"http://testserver/practice/{SLUG}</a>" in printed.text  # address written out
    assert "CC BY 4.0" in printed.text
    pdf = client.get(f"/practice/{SLUG}/writeup.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == f'attachment; filename="{SLUG}.pdf"'
    text = pdf_text(pdf.content)
    assert "Weekly low-stakes quizzes" in text and "How to adopt it" in text
    assert client.get("/practice/no-such-thing/writeup.pdf").status_code == 404
    assert client.get(f"/practice/{DRAFT}/print").status_code == 404


def test_the_whole_library_downloads_as_markdown_and_json_lines(client: TestClient) -> None:
    home = client.get("/").text
    assert 'href="/download"' in home.split('class="site-footer"', 1)[1]
    page = client.get("/download")
    assert page.status_code == 200 and "CC BY 4.0" in page.text
    check_page(page.text)
    published = {d["slug"] for d in client.get("/api/practices").json()["results"]}
    response = client.get("/download/library.zip")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {f"practice/{slug}.md" for slug in published} | {"README.txt", "writeups.jsonl"} \
        == names
    assert f"practice/{DRAFT}.md" not in names
    assert "CC BY 4.0" in archive.read("README.txt").decode()
    lines = archive.read("writeups.jsonl").decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["slug"] for r in records} == published
    quiz = next(r for r in records if r["slug"] == SLUG)
    assert {"id": "maths", "label": "Mathematics"} in quiz["tags"]["subjects"]
    assert quiz["tags"]["interventions"] and quiz["licence"] == "CC BY 4.0"
    assert quiz["school"]["id"] == "ashcombe-academy" and "## Context" in quiz["body"]
    original = client.get(f"/api/practices/{SLUG}").json()
    assert quiz["title"] == original["title"]
    # The same lines from the API, listed in the API reference.
    api = client.get("/api/library.jsonl")
    assert api.status_code == 200 and api.text.splitlines() == lines
    assert "/api/library.jsonl" in client.get("/openapi.json").json()["paths"]
    assert "/api/library.jsonl" in client.get("/docs").text
