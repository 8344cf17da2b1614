"""Collection and programme pages, downloads and their JSON twins, through FastAPI's TestClient."""

from __future__ import annotations

import io
import re
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

import pytest
from conftest import ROOT
from fastapi.testclient import TestClient
from pypdf import PdfReader
from test_collections import library_with_collections
from test_collections_cli import assert_in_order, flat, pdf_text
from test_web import check_page

from indexer.embedders.sentence_transformer import SentenceTransformerEmbedder
from indexer.pipeline import index_content
from kb.settings import Settings

SLUG = "maths-tuition-and-quizzes"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         embedder: SentenceTransformerEmbedder) -> Iterator[tuple[TestClient, Settings]]:
    """The fixture library with its collections and programme, indexed and served."""
    from webapp.app import create_app

    settings = library_with_collections(tmp_path_factory.mktemp("site"))
    index_content(settings, embedder, progress=False)
    with TestClient(create_app(settings, embedder=embedder, update_on_start=False)) as client:
        yield client, settings


@pytest.fixture(scope="module")
def client(site: tuple[TestClient, Settings]) -> TestClient:
    return site[0]


class _Forms(HTMLParser):
    """Collects forms (method, action) and scripts, to check pages work without JavaScript."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(a)
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1


@pytest.mark.parametrize("url, text", [
    ("/collections", "Maths tuition and quizzes"),
    ("/collections?subject=maths", "1 collection match"),
    (f"/collections/{SLUG}", "Why it is here"),
    (f"/collections/{SLUG}/print", "Write-up 2 of 2"),
    ("/programmes", "Test inset day"),
    ("/programmes/test-day", "Maths strand"),
    ("/programmes/test-day?subject=maths", "1 of 3 sessions match"),
    ("/programmes/test-day/print", "Test inset day"),
    ("/practice/weekly-quizzes-year-7-maths", "In collections"),
])
def test_pages_render_with_one_h1_and_no_inline_script(client: TestClient, url: str,
                                                       text: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.text[:300]
    assert text in response.text
    check_page(response.text)
    parsed = _Forms()
    parsed.feed(response.text)
    assert parsed.inline_scripts == 0
    assert all((f.get("method") or "get").lower() == "get" for f in parsed.forms)
    assert "Content-Security-Policy" in response.headers


def test_collection_page_shows_items_in_order_with_notes_and_downloads(
        client: TestClient) -> None:
    html = client.get(f"/collections/{SLUG}").text
    assert_in_order(html, ["Small-group maths tuition for Year 11",
                           "Tuition groups of three built around shared gaps",
                           "Who chooses the pupils for tuition", "Weekly low-stakes quizzes",
                           "A Monday quiz that mixes old topics"])
    assert "<strong>tuition</strong>" in html  # the introduction is rendered Markdown
    for href in (f"/collections/{SLUG}/print", f"/collections/{SLUG}/handout.pdf",
                 f"/collections/{SLUG}/handout.zip", "/programmes/test-day"):
        assert f'href="{href}"' in html
    assert "09:30–10:30, Room 1; led by Ann Maths" in html


def test_print_handout_has_cover_full_writeups_and_written_out_links(
        client: TestClient) -> None:
    html = client.get(f"/collections/{SLUG}/print").text
    assert '<link rel="stylesheet" href="/static/handout.css">' in html
    assert html.count('class="handout-item"') == 2
    assert_in_order(html, ["Session plan", "Welcome and a quiz", "In this pack",
                           "Curator's note", "Context"])
    assert "http://testserver/practice/small-group-maths-tuition-year-11</a>" in html
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "heading ids repeat across write-ups"
    css = client.get("/static/handout.css").text
    assert "break-before: page" in css and 'content: " (" attr(href) ")"' in css


def test_pdf_download_is_a_real_pdf_with_titles_and_notes_in_order(
        client: TestClient) -> None:
    response = client.get(f"/collections/{SLUG}/handout.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="{SLUG}.pdf"' in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF-")
    assert_in_order(pdf_text(response.content), [
        "Maths tuition and quizzes", "Small-group maths tuition for Year 11",
        "Tuition groups of three built around shared gaps from the mock.",
        "Who chooses the pupils for tuition in your school?", "How are the gaps diagnosed?",
        "Group your borderline pupils by the questions they got wrong.",
        "Weekly low-stakes quizzes in Year 7 maths",
        "A Monday quiz that mixes old topics with new ones.",
        "Which older topics have your pupils forgotten?", "Write ten mixed questions for Monday."])
    started = time.process_time()
    again = client.get(f"/collections/{SLUG}/handout.pdf")
    assert again.content == response.content and time.process_time() - started < 0.5  # cached


def test_markdown_zip_download(client: TestClient) -> None:
    response = client.get(f"/collections/{SLUG}/handout.zip")
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == [f"{SLUG}/00-session.md",
                                      f"{SLUG}/01-small-group-maths-tuition-year-11.md",
                                      f"{SLUG}/02-weekly-quizzes-year-7-maths.md"]


def test_drafts_and_unknown_slugs_are_not_found(client: TestClient) -> None:
    for url in ("/collections/coaching-draft", "/collections/nope/print",
                "/collections/coaching-draft/handout.pdf", "/programmes/nope",
                "/api/collections/coaching-draft", "/api/programmes/nope",
                "/collections/..%2f..%2fetc%2fpasswd"):
        assert client.get(url).status_code == 404, url
    assert "coaching-draft" not in client.get("/collections").text


@pytest.mark.parametrize("query, shown, absent", [
    ("", ["Maths tuition and quizzes", "Reading catch-up and attendance in primary"], []),
    ("?subject=maths", ["Maths tuition and quizzes"], ["Reading catch-up and attendance"]),
    ("?phase=primary", ["Reading catch-up and attendance"], ["Maths tuition and quizzes"]),
    ("?subject=Whole+school", ["Reading catch-up and attendance"], ["Maths tuition"]),
    ("?subject=english&phase=secondary", [], ["Maths tuition", "Reading catch-up"]),
])
def test_programme_grid_filters_by_subject_and_phase(client: TestClient, query: str,
                                                     shown: list[str],
                                                     absent: list[str]) -> None:
    html = client.get(f"/programmes/test-day{query}").text
    grid = html.split('<table class="timetable">')[1].split("</table>")[0]
    for title in shown:
        assert title in grid
    for title in absent:
        assert title not in grid
    assert "Welcome" in grid and "Lunch" in grid  # plenaries always stay
    if query:
        assert 'href="/programmes/test-day">Show the whole day</a>' in html


def test_programme_filter_form_keeps_the_choice_and_offers_used_terms(client: TestClient) -> None:
    html = client.get("/programmes/test-day?subject=maths&phase=secondary").text
    assert '<form class="filter-form" method="get" action="/programmes/test-day"' in html
    assert '<option value="maths" selected>' in html
    assert '<option value="secondary" selected>' in html
    assert '<option value="art"' not in html  # only subjects the day covers


def test_bad_filters_get_a_clear_422(client: TestClient) -> None:
    for url in ("/programmes/test-day?subject=astrology", "/collections?phase=nursery",
                "/api/programmes/test-day?subject=astrology"):
        response = client.get(url)
        assert response.status_code == 422 and "unknown" in response.text


def test_api_twins(client: TestClient) -> None:
    listing = client.get("/api/collections").json()
    assert listing["total"] == 2 and listing["results"][0]["slug"] == SLUG
    assert client.get("/api/collections?phase=primary").json()["total"] == 1
    detail = client.get(f"/api/collections/{SLUG}").json()
    assert [i["writeup"]["slug"] for i in detail["items"]] == [
        "small-group-maths-tuition-year-11", "weekly-quizzes-year-7-maths"]
    assert detail["items"][0]["questions"][1] == "How are the gaps diagnosed?"
    assert detail["minutes"] == 60 and detail["pdf_url"].endswith("handout.pdf")
    assert detail["sessions"][0]["facilitators"] == ["Ann Maths"]
    day = client.get("/api/programmes/test-day?subject=maths").json()
    assert day["shown"] == 1 and len(day["slots"]) == 4
    assert [s["collection"] for slot in day["slots"] for s in slot["sessions"]] == [SLUG]
    assert client.get("/api/programmes").json()[0]["sessions"] == 3


def test_pages_follow_edits_to_the_files(site: tuple[TestClient, Settings]) -> None:
    client, settings = site
    path = settings.collections_dir / "reading-and-attendance.md"
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace("title: Reading catch-up and attendance in primary",
                                         "title: Renamed <script>alert(1)</script>"),
                        encoding="utf-8")
        html = client.get("/collections").text
        assert "Renamed &lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)</script>" not in html
        path.write_text("---\ntitle: [\n---\n", encoding="utf-8")  # broken: left out
        assert client.get("/collections/reading-and-attendance").status_code == 404
        assert client.get(f"/collections/{SLUG}").status_code == 200
    finally:
        path.write_text(original, encoding="utf-8")
    assert "Reading catch-up and attendance" in client.get("/collections").text


@pytest.fixture(scope="module")
def bundled(embedder: SentenceTransformerEmbedder,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The real bundled content; the collection pages need no search index."""
    from webapp.app import create_app

    settings = Settings(content_dir=ROOT / "content",
                        data_dir=tmp_path_factory.mktemp("bundled") / "var")
    with TestClient(create_app(settings, embedder=embedder, update_on_start=False)) as c:
        yield c


def test_the_bundled_inset_day_renders_and_filters(bundled: TestClient) -> None:
    html = bundled.get("/programmes/common-inset-day-2022").text
    check_page(html)
    assert "The whole day: 21 sessions" in html
    primary = bundled.get("/programmes/common-inset-day-2022?phase=primary").text
    grid = primary.split('<table class="timetable">')[1]
    assert "Keeping everyone up in primary maths" in grid
    assert "Writing under pressure in GCSE English" not in grid
    assert "Whole-school leadership" in grid  # the attendance session is for primary too
    listing = bundled.get("/collections").text
    assert listing.count('class="card collection-card"') == 21


def test_a_bundled_handout_pdf_reads_back_in_order(bundled: TestClient) -> None:
    detail = bundled.get("/api/collections/attendance-what-moved-persistent-absence").json()
    response = bundled.get("/collections/attendance-what-moved-persistent-absence/handout.pdf")
    needles: list[str] = [detail["title"]]
    for item in detail["items"]:
        needles += [item["writeup"]["title"], item["why"], *item["questions"], item["task"]]
    assert_in_order(pdf_text(response.content), needles)
    assert len(PdfReader(io.BytesIO(response.content)).pages) >= 4
    assert flat(detail["title"]) in flat(pdf_text(response.content))


def test_timetable_pdf_download(bundled: TestClient) -> None:
    response = bundled.get("/programmes/common-inset-day-2022/timetable.pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1


def test_static_handout_stylesheet_exists() -> None:
    assert (Path(ROOT) / "webapp" / "static" / "handout.css").exists()


def test_concurrent_requests_for_one_pack_build_it_once() -> None:
    """Narrow unit test of the cache with a stand-in build function (no PDF involved)."""
    import threading

    from webapp.handouts import PackCache

    cache, calls = PackCache(size=2), []

    def build() -> bytes:
        calls.append(1)
        time.sleep(0.2)
        return b"pack"

    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(("k",), build)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [b"pack"] * 8 and len(calls) == 1
    for n in range(3):
        cache.get((str(n),), lambda: b"x")
    assert ("k",) not in cache._items  # the oldest entry was evicted


def test_pdf_builds_never_fetch_anything() -> None:
    """An image or stylesheet address in a write-up must not make the server call out."""
    import socket
    import threading

    from webapp.handouts import html_to_pdf

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    port, hits = listener.getsockname()[1], []

    def accept() -> None:
        try:
            conn, _ = listener.accept()
            hits.append(1)
            conn.close()
        except OSError:
            pass

    watcher = threading.Thread(target=accept)
    watcher.start()
    pdf = html_to_pdf(f'<link rel="stylesheet" href="http://127.0.0.1:{port}/a.css">'
                      f'<p>Text</p><img src="http://127.0.0.1:{port}/x.png">'
                      '<img src="file:///etc/hostname">')
    watcher.join()
    listener.close()
    assert pdf.startswith(b"%PDF-") and hits == []
