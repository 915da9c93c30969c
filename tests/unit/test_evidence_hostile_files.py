"""Hostile evidence files (issue 16, Files): zips whose headers lie about what they unpack to or
name parts outside the document, and text a browser would sniff as HTML."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib

import pytest

from artifact.evidence.services.filetypes import Limits, identify
from artifact.kernel.errors import InvalidFile, UnsupportedType
from tests.fixtures_evidence import make_docx

GIB = 1024 * 1024 * 1024


def _spaces_deflated(megabytes: int) -> bytes:
    """A raw deflate stream of ``megabytes`` MiB of spaces, built in milliseconds: one
    fully flushed block (it refers to nothing before it) repeated, then an empty final block."""
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = block.compress(b" " * (1024 * 1024)) + block.flush(zlib.Z_FULL_FLUSH)
    return one * megabytes + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


def _lying_docx(bomb_name: str, raw: bytes, declared: int, crc: int) -> bytes:
    """A real DOCX plus a part whose local and central headers declare ``declared`` bytes
    (and ``crc``) while its deflate data ``raw`` unpacks to far more: zipfile writes the part
    honestly (small), then its compressed bytes and the size fields are patched."""
    placeholder = b"<w:x/>"
    out = io.BytesIO(make_docx())
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(bomb_name, placeholder)
        info = archive.getinfo(bomb_name)
    data = out.getvalue()
    local = info.header_offset
    name_len, extra_len = struct.unpack_from("<HH", data, local + 26)
    start = local + 30 + name_len + extra_len
    patched = bytearray(data[:start] + raw + data[start + info.compress_size :])
    shift = len(raw) - info.compress_size
    struct.pack_into("<III", patched, local + 14, crc, len(raw), declared)
    central = patched.find(b"PK\x01\x02", start + len(raw))
    while central >= 0:
        (name_len,) = struct.unpack_from("<H", patched, central + 28)
        name = bytes(patched[central + 46 : central + 46 + name_len]).decode()
        if name == bomb_name:
            struct.pack_into("<III", patched, central + 16, crc, len(raw), declared)
        central = patched.find(b"PK\x01\x02", central + 46)
    eocd = patched.rfind(b"PK\x05\x06")
    (cd_offset,) = struct.unpack_from("<I", patched, eocd + 16)
    struct.pack_into("<I", patched, eocd + 16, cd_offset + shift)
    return bytes(patched)


def test_a_docx_that_lies_about_its_unpacked_size_is_refused_fast_and_small() -> None:
    """1 GiB of spaces declared as 40,000 bytes (with the CRC of the first 40,000, so a reader
    that stops at the declared size sees nothing wrong): before, 4.9 s and 2.2 GB."""
    declared = 40_000
    bomb = _lying_docx(
        "word/spaces.xml", _spaces_deflated(1024), declared, zlib.crc32(b" " * declared)
    )
    assert len(bomb) < 2 * 1024 * 1024
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:  # the headers do say 40,000 bytes
        assert archive.getinfo("word/spaces.xml").file_size == declared
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(InvalidFile) as refused:
            identify(bomb, "minutes.docx")
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = refused.value.message
    assert "'word/spaces.xml' inflates to more than the 40000 bytes its header declares" in message
    assert "zip bomb" in message
    assert elapsed < 1.0
    assert peak < 16 * 1024 * 1024


def test_a_part_that_really_inflates_past_its_limit_is_refused() -> None:
    """Honest headers, one part past the per-part cap (counted while inflating)."""

    def big(archive: zipfile.ZipFile) -> None:
        archive.writestr("word/media/big.bin", bytes(range(256)) * 8 * 1024)  # 2 MiB

    with pytest.raises(InvalidFile, match="inflates past the limit of 1 MB: refused as a"):
        identify(make_docx(big), "minutes.docx", Limits(zip_part=1024 * 1024))


def test_an_end_record_that_hides_entries_does_not_lift_the_entry_cap() -> None:
    def many(archive: zipfile.ZipFile) -> None:
        for number in range(30):
            archive.writestr(f"word/part{number}.xml", "<a/>")

    docx = bytearray(make_docx(many))
    eocd = docx.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", docx, eocd + 8, 1, 1)  # "one entry"
    with pytest.raises(InvalidFile, match="too many parts"):
        identify(bytes(docx), "minutes.docx", Limits(zip_entries=20))


@pytest.mark.parametrize(
    "name",
    ["../../x", "word/../../x", "/etc/cron.d/x", "word\\..\\..\\x", "C:/x", "c:x", "word/a\x01"],
)
def test_a_part_named_outside_the_document_is_refused(name: str) -> None:
    def hostile(archive: zipfile.ZipFile) -> None:
        archive.writestr(zipfile.ZipInfo(name), "x")

    docx = make_docx(hostile)
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        assert name in [i.orig_filename for i in archive.infolist()]
    with pytest.raises(InvalidFile) as refused:
        identify(docx, "minutes.docx")
    assert "absolute paths, drive letters, backslashes and '..' are not accepted" in (
        refused.value.message
    )


def test_two_parts_with_one_name_are_refused() -> None:
    def twice(archive: zipfile.ZipFile) -> None:
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("word/document.xml", "<w:document/>")

    with pytest.raises(InvalidFile, match="two parts named 'word/document.xml'"):
        identify(make_docx(twice), "minutes.docx")


def test_an_honest_docx_still_passes() -> None:
    assert identify(make_docx(), "minutes.docx").name == "docx"


@pytest.mark.parametrize(
    "text",
    [
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">click</a>',
        "<style>body { background: url(x) }</style>",
        "<!-- note --><script>alert(1)</script>",
        "<!--><script>alert(1)</script>",
        '<meta http-equiv="refresh" content="0;url=https://evil.test/">',
        "<math><mtext><script>alert(1)</script></mtext></math>",
        "<!DOCTYPE HTML><p>x</p>",
        "<HTML>",
        "<head>",
        "<Script>alert(1)</Script>",
        "<iframe src=x>",
        "<h1>Title</h1>",
        "<div>x</div>",
        "<font color=red>x</font>",
        "<table><tr><td>x</td></tr></table>",
        "<title>x</title>",
        "<b>bold</b>",
        "<body onload=alert(1)>",
        "<br>",
        "<p>paragraph",
        "<?xml version='1.0'?><x/>",
        "</p><script>alert(1)</script>",
        " \t\r\n\f<img src=x onerror=alert(1)>",
        "\ufeff<img src=x onerror=alert(1)>",
        "\ufeff\ufeff  <svg onload=alert(1)>",
        "\u00a0\u200b<b>x</b>",
    ],
)
def test_text_a_browser_would_sniff_as_html_is_refused(text: str) -> None:
    for name in ("notes.txt", "users.csv", None):
        with pytest.raises(UnsupportedType) as refused:
            identify(text.encode("utf-8"), name)
        assert "a browser would read as HTML" in refused.value.message


@pytest.mark.parametrize(
    "text",
    ["a < b\n", "<3 the team\n", "< 5 ms latency\n", "notes: <img> tags are not allowed\n", "<"],
)
def test_text_that_only_contains_angle_brackets_is_accepted(text: str) -> None:
    assert identify(text.encode("utf-8"), "notes.txt").name == "text"


def test_html_after_a_utf16_bom_is_not_text() -> None:
    with pytest.raises(UnsupportedType, match="not an accepted type"):
        identify("\ufeff<script>".encode("utf-16-le"), "notes.txt")
