"""Session materials in kb: judging files by content, safe names, storing without overwriting,
and reading their text with pypdf, python-docx, python-pptx and the standard library (ODT)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support_materials import (
    docx_bytes,
    encrypted_pdf_bytes,
    odt_bytes,
    password_office_bytes,
    pdf_bytes,
    png_bytes,
    pptx_bytes,
    zip_bomb_docx,
)

from kb.content.extract import extract_text
from kb.content.filecheck import FileRefused, check_file
from kb.curation.materials import (
    add_material,
    check_materials,
    list_materials,
    remove_material,
    safe_name,
)
from kb.errors import BadInputError

LIMIT = 5_000_000


@pytest.mark.parametrize("name, make, kind, words", [
    ("sheet.docx", lambda: docx_bytes("Fractions on a number line", "Shade three quarters"),
     "docx", "three quarters"),
    ("deck.pptx", lambda: pptx_bytes("Retrieval starters", "Five questions every lesson"),
     "pptx", "Five questions"),
    ("notes.pdf", lambda: pdf_bytes("Cold calling with wait time"), "pdf", "wait time"),
    ("plan.odt", lambda: odt_bytes("Reading fluency routine", "Echo reading daily"), "odt",
     "Echo reading"),
    ("diagram.png", png_bytes, "png", ""),
    ("photo.JPG", lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 100 + b"\xff\xd9", "jpeg", ""),
])
def test_real_files_are_judged_by_content_and_their_words_read(name, make, kind, words) -> None:
    data = make()
    assert check_file(name, data, LIMIT).key == kind
    text = extract_text(name, kind, data)
    assert words in text


@pytest.mark.parametrize("name, make, says", [
    ("plan.pdf", lambda: docx_bytes("hello"), "named as a PDF document but its content is a "
                                              "Word document"),
    ("sheet.docx", lambda: pdf_bytes("hello"), "its content is a PDF document"),
    ("sheet.docx", lambda: b"PK\x03\x04" + b"not really a zip" * 10, "is damaged"),
    ("sheet.docx", lambda: _plain_zip(), "its content is not"),
    ("slides.pptx", lambda: docx_bytes("hello"), "its content is a Word document"),
    ("page.pdf", lambda: b"<html><script>alert(1)</script></html>", "its content is not"),
    ("secret.pdf", encrypted_pdf_bytes, "encrypted"),
    ("report.docx", zip_bomb_docx, "zip bomb"),
    ("long.docx", lambda: _big_random_part(60_000_000), "text part that unpacks to 60.0 MB"),
    ("locked.docx", password_office_bytes, "protected by a password"),
    ("old.doc", lambda: b"anything", "not a kind of file this site takes"),
    ("empty.pdf", lambda: b"", "is empty"),
    ("big.png", lambda: png_bytes(LIMIT), "files may be up to 5.0 MB"),
])
def test_bad_files_are_refused_with_their_name_and_the_reason(name, make, says) -> None:
    with pytest.raises(FileRefused) as refused:
        check_file(name, make(), LIMIT)
    assert name in str(refused.value)
    assert says in str(refused.value)


def _big_random_part(size: int) -> bytes:
    """A .docx whose document.xml is large but barely compressible (no zip-bomb ratio): its
    declared size alone must refuse it, without inflating it."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        info = zipfile.ZipInfo("word/document.xml")
        archive.writestr(info, b"")
    data = bytearray(out.getvalue())
    # Declare the size in the central directory only (local header and data stay tiny).
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = size.to_bytes(4, "little")
    return bytes(data)


def _plain_zip() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "just a zip")
    return out.getvalue()


@pytest.mark.parametrize("raw, safe", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\me\\Worksheet 1.docx", "Worksheet 1.docx"),
    (".hidden.png", "hidden.png"),
    ("Fiche d’exercices é.ODT", "Fiche d-exercices.odt"),
    ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
])
def test_file_names_are_reduced_to_a_safe_base_name(raw: str, safe: str) -> None:
    assert safe_name(raw) == safe


@pytest.mark.parametrize("raw", ["..", "../", ".pdf", "noending", "/"])
def test_a_name_with_nothing_usable_is_refused(raw: str) -> None:
    with pytest.raises(BadInputError):
        safe_name(raw)


def test_storing_never_overwrites_and_refused_files_leave_nothing(tmp_path: Path) -> None:
    content = tmp_path / "content"
    first = add_material(content, "practice", "some-writeup", "../sheet.docx",
                         docx_bytes("first"), LIMIT)
    assert first.name == "sheet.docx" and first.label == "Word document"
    stored = content / "materials" / "practice" / "some-writeup" / "sheet.docx"
    before = stored.read_bytes()
    with pytest.raises(FileRefused, match="already has a file called “sheet.docx”"):
        add_material(content, "practice", "some-writeup", "sheet.docx", docx_bytes("2nd"),
                     LIMIT)
    assert stored.read_bytes() == before
    with pytest.raises(FileRefused):
        add_material(content, "practice", "some-writeup", "bomb.docx", zip_bomb_docx(), LIMIT)
    assert [m.name for m in list_materials(content, "practice", "some-writeup")] == \
        ["sheet.docx"]
    assert sorted(p.name for p in stored.parent.iterdir()) == ["sheet.docx"]  # no temp files
    remove_material(content, "practice", "some-writeup", "sheet.docx")
    assert list_materials(content, "practice", "some-writeup") == []


def test_a_broken_stored_file_is_reported_by_its_path(tmp_path: Path) -> None:
    content = tmp_path / "content"
    folder = content / "materials" / "collections" / "a-session"
    folder.mkdir(parents=True)
    (folder / "good.odt").write_bytes(odt_bytes("fine"))
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 truncated")
    problems = check_materials(content, LIMIT)
    assert [p.path for p in problems] == ["content/materials/collections/a-session/broken.docx"]
    assert "damaged" in problems[0].message


def test_index_reads_a_file_once_and_reports_a_broken_one(tmp_path: Path) -> None:
    from indexer.attachments import attachments_of, cache_dir
    from kb.settings import Settings

    settings = Settings(content_dir=tmp_path / "content", data_dir=tmp_path / "var")
    add_material(settings.content_dir, "practice", "a-writeup", "sheet.odt",
                 odt_bytes("Echo reading daily"), LIMIT)
    bad = settings.content_dir / "materials" / "practice" / "a-writeup" / "slides.pptx"
    bad.write_bytes(docx_bytes("a Word file named as slides"))
    skipped: list[str] = []
    assert attachments_of(settings, "a-writeup", skipped) == (("sheet.odt",
                                                               "Echo reading daily"),)
    assert skipped == ["content/materials/practice/a-writeup/slides.pptx: “slides.pptx” is "
                       "named as PowerPoint slides but its content is a Word document; save "
                       "it with the ending .docx and upload it again"]
    [cached] = cache_dir(settings).iterdir()
    cached.write_text("words from the cache", encoding="utf-8")  # the next build reads this
    assert attachments_of(settings, "a-writeup", []) == (("sheet.odt", "words from the cache"),)


def test_files_of_a_writeup_that_does_not_exist_are_a_warning(tmp_path: Path) -> None:
    content = tmp_path / "content"
    add_material(content, "collections", "gone-session", "plan.odt", odt_bytes("x"), LIMIT)
    [problem] = check_materials(content, LIMIT, {"practice": set(), "collections": {"other"}})
    assert problem.level == "warning"
    assert problem.path == "content/materials/collections/gone-session"
    assert "no collection called 'gone-session'" in problem.message
    assert check_materials(content, LIMIT, {"collections": {"gone-session"}}) == []


def test_a_file_copied_in_with_an_unsafe_name_is_not_listed_but_reported(tmp_path: Path) -> None:
    content = tmp_path / "content"
    folder = content / "materials" / "practice" / "a-writeup"
    folder.mkdir(parents=True)
    (folder / 'say "hi"\r\n.png').write_bytes(png_bytes())
    (folder / "notes.txt").write_bytes(b"plain text")
    assert list_materials(content, "practice", "a-writeup") == []
    problems = check_materials(content, LIMIT)
    assert len(problems) == 2 and all("rename it" in p.message for p in problems)
