"""What an evidence file is, decided by its bytes and a real parse; hostile files refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from artifact.evidence.services.filetypes import Limits, identify
from artifact.kernel.errors import InvalidFile, UnsupportedType
from tests.fixtures_catalog import make_pdf
from tests.fixtures_evidence import (
    make_docx,
    make_jpeg,
    make_png,
    make_xlsx,
    png_bomb,
    zeros_entry,
)


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (make_pdf(1), "policy.pdf", "pdf"),
        (make_png(), "screenshot.png", "png"),
        (make_jpeg(), "photo.jpeg", "jpeg"),
        (make_jpeg(), "photo.JPG", "jpeg"),
        (make_xlsx(), "users.xlsx", "xlsx"),
        (make_docx(), "minutes.docx", "docx"),
        (b"user,role\nalice,admin\n", "users.csv", "csv"),
        ("Zugriffsprüfung: ok\n".encode(), "notes.txt", "text"),
        (b"plain words", None, "text"),
        (make_png(), None, "png"),
    ],
)
def test_accepted_types(data: bytes, name: str | None, kind: str) -> None:
    assert identify(data, name).name == kind


@pytest.mark.parametrize(
    ("data", "name", "error", "words"),
    [
        (b"", "empty.txt", InvalidFile, "empty"),
        (make_png(), "evidence.pdf", UnsupportedType, "content is PNG but the name ends in .pdf"),
        (make_pdf(1), "scan.png", UnsupportedType, "content is PDF"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "x.gif", UnsupportedType, "not an accepted type"),
        (
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
            "x.exe",
            UnsupportedType,
            "not an accepted type",
        ),
        (b"<!DOCTYPE html><script>alert(1)</script>", "notes.txt", UnsupportedType, "markup"),
        (b"<svg onload=alert(1)>", "a.txt", UnsupportedType, "markup"),
        (b"plain text", "page.html", UnsupportedType, "name ends in .html"),
        (b'a,"b\nc', "broken.csv", InvalidFile, "CSV is malformed"),
        (b"\xff\xfe\x00bad", "x.txt", UnsupportedType, "not an accepted type"),
        (make_png()[:-30], "cut.png", InvalidFile, "PNG"),
        (b"%PDF-1.7\nnot really", "fake.pdf", InvalidFile, "cannot be read"),
    ],
)
def test_refused_types(data: bytes, name: str, error: type, words: str) -> None:
    with pytest.raises(error) as raised:
        identify(data, name)
    assert words in raised.value.message


def test_polyglots_are_refused() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.html", "<script>alert(1)</script>")
    with pytest.raises(InvalidFile, match="two formats"):
        identify(make_png() + archive.getvalue(), "image.png")
    with pytest.raises(InvalidFile, match="two formats"):
        identify(make_pdf(1) + archive.getvalue(), "doc.pdf")
    with pytest.raises(UnsupportedType, match="not a DOCX or XLSX"):
        identify(archive.getvalue(), "bundle.docx")


def test_png_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(InvalidFile, match="too large"):
        identify(png_bomb(), "bomb.png")


def test_pixel_limit_is_configurable() -> None:
    with pytest.raises(InvalidFile, match="40 x 20 pixels"):
        identify(make_png(40, 20), "small.png", Limits(max_pixels=100))


def test_zip_bomb_docx_by_total_size() -> None:
    bomb = make_docx(zeros_entry("word/media/zeros.bin", 110))
    assert len(bomb) < 2 * 1024 * 1024
    with pytest.raises(InvalidFile, match="possible zip bomb"):
        identify(bomb, "minutes.docx")


def test_zip_bomb_xlsx_by_ratio() -> None:
    with pytest.raises(InvalidFile, match="expands .* times"):
        identify(make_xlsx(zeros_entry("xl/zeros.xml", 5)), "users.xlsx")


def test_zip_with_too_many_parts() -> None:
    def many(archive: zipfile.ZipFile) -> None:
        for number in range(30):
            archive.writestr(f"word/part{number}.xml", "<a/>")

    with pytest.raises(InvalidFile, match="too many parts"):
        identify(make_docx(many), "minutes.docx", Limits(zip_entries=20))


def test_office_xml_with_entities_is_refused() -> None:
    def entity(archive: zipfile.ZipFile) -> None:
        archive.writestr(
            "xl/lol.xml", '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><l>&a;</l>'
        )

    with pytest.raises(InvalidFile, match="DTD"):
        identify(make_xlsx(entity), "users.xlsx")


def test_damaged_office_documents() -> None:
    docx = bytearray(make_docx())
    start = docx.find(b"word/document.xml")
    with zipfile.ZipFile(io.BytesIO(bytes(docx))) as archive:
        info = archive.getinfo("word/document.xml")
    offset = info.header_offset + 30 + len(info.filename) + 10
    docx[offset : offset + 20] = b"\x00" * 20
    assert start > 0
    with pytest.raises(InvalidFile):
        identify(bytes(docx), "minutes.docx")
    fake = io.BytesIO()
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "not xml at all")
    with pytest.raises(InvalidFile, match="XLSX workbook is damaged"):
        identify(fake.getvalue(), "book.xlsx")
