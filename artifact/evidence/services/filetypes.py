"""Decide what an uploaded evidence file is from its bytes, and open it with a real parser.

The content decides the type (magic bytes), then a parser must accept it: pikepdf for PDF,
Pillow for PNG and JPEG (verify, then load, within a pixel limit), openpyxl (read-only) for XLSX
and python-docx for DOCX after the zip container passed its limits (entries, safe names, the
bytes each part really inflates to and their total, compression ratio, no DTDs: see
artifact/infra/zipguard.py), the csv module for CSV and UTF-8 for plain text. The name's
extension only chooses between CSV and plain text (both are text) and must not contradict the
content. Raises UnsupportedType (415) or InvalidFile (422).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath

from artifact.infra.pdf.inspect import inspect_pdf
from artifact.infra.zipguard import ZipLimits, inspect_zip, read_part_prolog
from artifact.kernel.errors import InvalidFile, UnsupportedType


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 40_000_000
    zip_entries: int = 2_000
    zip_uncompressed: int = 100 * 1024 * 1024  # bytes really inflated, all parts
    zip_part: int = 50 * 1024 * 1024  # bytes really inflated by one part
    zip_ratio: int = 200  # uncompressed/compressed past which a big entry is called a bomb


@dataclass(frozen=True)
class FileType:
    name: str
    content_type: str
    extensions: tuple[str, ...]


TYPES = {
    t.name: t
    for t in (
        FileType("pdf", "application/pdf", (".pdf",)),
        FileType("png", "image/png", (".png",)),
        FileType("jpeg", "image/jpeg", (".jpg", ".jpeg")),
        FileType(
            "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)
        ),
        FileType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (".docx",),
        ),
        FileType("csv", "text/csv; charset=utf-8", (".csv",)),
        FileType("text", "text/plain; charset=utf-8", (".txt", ".text", ".log", ".md")),
    )
}
ACCEPTED = "PDF, PNG, JPEG, CSV, XLSX, DOCX or plain text (UTF-8)"
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_ZIP = b"PK\x03\x04"
# Byte order marks, white space and invisible format characters a browser or a reader skips.
_MARKUP_LEAD = re.compile(r"^[\ufeff\u200b-\u200f\u2060\s]+")
_MARKUP_OPEN = re.compile(r"<[A-Za-z!?/]")


def identify(data: bytes, filename: str | None, limits: Limits = Limits()) -> FileType:
    """The type of ``data``, after a real parse. Raises UnsupportedType or InvalidFile."""
    if not data:
        raise InvalidFile("the file is empty")
    extension = PurePosixPath(filename or "").suffix.lower()
    kind = _sniff(data, extension, limits)
    _PARSERS[kind](data, limits)
    found = TYPES[kind]
    if extension and extension not in found.extensions:
        raise UnsupportedType(
            f"the content is {found.name.upper()} but the name ends in "
            f"{extension}; rename it to {found.extensions[0]}"
        )
    return found


def _sniff(data: bytes, extension: str, limits: Limits) -> str:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(_PNG):
        return "png"
    if data.startswith(_JPEG):
        return "jpeg"
    if data.startswith(_ZIP):
        return _office_kind(data, limits)
    text = _as_text(data)
    if text is None:
        raise UnsupportedType(f"the file is not an accepted type ({ACCEPTED})")
    markup = _markup_start(text)
    if markup is not None:
        raise UnsupportedType(
            f"the file starts with markup ({markup!r}) that a browser would read as HTML, "
            f"SVG or XML, which is not accepted as evidence ({ACCEPTED}); export it as PDF, "
            "or start the text with something other than '<'"
        )
    return "csv" if extension == ".csv" else "text"


def _markup_start(text: str) -> str | None:
    """The opening of ``text`` if a browser could sniff it as markup, else None.

    The WHATWG MIME Sniffing standard's HTML signatures (after leading white space, any case:
    ``<!DOCTYPE HTML``, ``<HTML``, ``<HEAD``, ``<SCRIPT``, ``<IFRAME``, ``<H1``, ``<DIV``,
    ``<FONT``, ``<TABLE``, ``<A``, ``<STYLE``, ``<TITLE``, ``<B``, ``<BODY``, ``<BR``, ``<P``,
    ``<!--``) and ``<?xml`` are all covered by a broader rule: ``<`` followed by a letter, ``!``,
    ``?`` or ``/`` (any tag, comment, declaration or processing instruction: ``<img``,
    ``<math``, ``<meta``, ``<svg`` too). Byte order marks, ASCII and Unicode white space before
    it are skipped."""
    head = _MARKUP_LEAD.sub("", text[:1024], count=1)
    if _MARKUP_OPEN.match(head):
        return head[:20]
    return None


def _as_text(data: bytes) -> str | None:
    """UTF-8 text without NUL or other control characters (except tab, newlines, form feed)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    allowed = {"\t", "\n", "\r", "\f"}
    if any(ord(c) < 32 and c not in allowed for c in text[:65536]) or "\x00" in text:
        return None
    return text


def _office_kind(data: bytes, limits: Limits) -> str:
    names = set(_check_zip(data, limits))
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    raise UnsupportedType(f"the file is a zip archive but not a DOCX or XLSX document ({ACCEPTED})")


def _check_pdf(data: bytes, limits: Limits) -> None:
    inspect_pdf(data)


def _check_image(data: bytes, limits: Limits) -> None:
    from PIL import Image, UnidentifiedImageError

    expected = "PNG" if data.startswith(_PNG) else "JPEG"
    if expected == "PNG" and not data.endswith(b"IEND\xaeB`\x82"):
        raise InvalidFile(
            "the PNG has data after its end (or is truncated); a file that is "
            "two formats at once is not accepted"
        )
    if expected == "JPEG" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise InvalidFile(
            "the JPEG has data after its end (or is truncated); a file that is "
            "two formats at once is not accepted"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                _check_pixels(image.size, limits)
                image.verify()
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                image.load()
    except InvalidFile:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidFile(
            f"the image is too large (more than {limits.max_pixels} pixels)"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise InvalidFile(f"the {expected} image is damaged: {str(error)[:150]}") from None


def _check_pixels(size: tuple[int, int], limits: Limits) -> None:
    width, height = size
    if width * height > limits.max_pixels:
        raise InvalidFile(
            f"the image is too large ({width} x {height} pixels; at most "
            f"{limits.max_pixels} pixels): refused as a possible decompression "
            "bomb"
        )


def _check_zip(data: bytes, limits: Limits) -> list[str]:
    """Bytes really inflated, names and DTDs checked before any parser opens the archive."""
    names = inspect_zip(
        data,
        ZipLimits(
            entries=limits.zip_entries,
            total=limits.zip_uncompressed,
            part=limits.zip_part,
            ratio=limits.zip_ratio,
        ),
    )
    for name in names:
        if name.endswith((".xml", ".rels")):
            prolog = read_part_prolog(data, name).lower()
            if b"<!doctype" in prolog or b"<!entity" in prolog:
                raise InvalidFile(
                    "the document declares a DTD or entities, which office "
                    "documents never need: refused"
                )
    return names


def _check_xlsx(data: bytes, limits: Limits) -> None:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                for sheet in workbook.worksheets:
                    for _row in sheet.iter_rows(max_row=1000, values_only=True):
                        pass
            finally:
                workbook.close()
    except InvalidFile:
        raise
    except Exception as error:  # noqa: BLE001  (openpyxl raises anything on bad input)
        raise InvalidFile(f"the XLSX workbook is damaged: {str(error)[:150]}") from None


def _check_docx(data: bytes, limits: Limits) -> None:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        _ = len(document.paragraphs)
    except Exception as error:  # noqa: BLE001  (python-docx raises anything on bad input)
        raise InvalidFile(f"the DOCX document is damaged: {str(error)[:150]}") from None


def _check_csv(data: bytes, limits: Limits) -> None:
    text = data.decode("utf-8-sig")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise InvalidFile(f"the CSV is malformed: {error}") from None
    if not rows:
        raise InvalidFile("the CSV has no rows")


def _check_text(data: bytes, limits: Limits) -> None:
    """Already decoded as UTF-8 by the sniffer."""


_PARSERS = {
    "pdf": _check_pdf,
    "png": _check_image,
    "jpeg": _check_image,
    "xlsx": _check_xlsx,
    "docx": _check_docx,
    "csv": _check_csv,
    "text": _check_text,
}
