"""Decide whether uploaded bytes are a PDF we can keep, serve and stamp, and say why not.

The rule is what readers accept: qpdf (through pikepdf) opens the file, repairing what it can
(a rebuilt cross-reference table, duplicated keys, stale linearization hints: its warnings are
kept for staff to see), and pdfium, the reader inside Chrome, opens it and renders every page
of the normalised copy customers' copies are made from. Refused: what is not a PDF, what
neither can read, what needs a password, what has no pages. The type is decided by the
content, never the file name."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import pikepdf
import pypdfium2 as pdfium

from artifact.infra.pdf.pdfium_lock import PDFIUM_LOCK
from artifact.infra.pdf.sanitize import strip_active_content
from artifact.kernel.errors import InvalidFile, UnsupportedType

MAX_WARNINGS = 50
# Every page is rendered at upload and stamped at every download: a bound on that work far
# above any real report.
MAX_PAGES = 10_000
# Each page is rendered this small (longest side, in pixels): enough for pdfium to parse and
# draw all of its content, cheap in memory and time.
RENDER_PIXELS = 64
PROTECTED = "this PDF is protected by a password; upload an unprotected copy"
NOT_A_PDF = "the file is not a PDF (it does not start with a PDF header); reports must be PDF"
TWO_FORMATS = (
    "the file is a PDF with another file (a ZIP archive or HTML) after its end; a file that "
    "is two formats at once is not accepted"
)
OWNER_RESTRICTIONS = "encryption that needs no password to open (its print and copy limits)"
_STREAM_NAME_RE = re.compile(
    r"(?:WARNING: )?(?:stream )?(?:the file|<_io\.BytesIO object at 0x[0-9a-f]+>)"
    r"(?: \((?:[^()]|\([^()]*\))*\))?[:,]\s*"
)
# What another format left after a PDF's end looks like (readers ignore what follows %%EOF).
_OTHER_FORMAT_RE = re.compile(rb"PK\x03\x04|PK\x05\x06|<(?:!doctype|html|script|svg|iframe)", re.I)
# Errors pikepdf raises for content it cannot make sense of.
_PDF_ERRORS = (
    pikepdf.PdfError,
    pikepdf.DataDecodingError,
    RuntimeError,
    ValueError,
    OSError,
    NotImplementedError,
)


@dataclass(frozen=True)
class PdfFacts:
    page_count: int
    pdf_version: str
    # What qpdf repaired or tolerated while reading the file, in its words.
    warnings: tuple[str, ...] = ()
    # What copies handed out will not carry (active content, owner-password restrictions).
    removed: tuple[str, ...] = ()


def plain(message: object) -> str:
    """qpdf's message without the in-memory stream's name, on one line, shortened."""
    text = " ".join(str(message).split())
    text = _STREAM_NAME_RE.sub("", text)
    return text[:300]


def _unreadable(detail: object) -> InvalidFile:
    reason = plain(detail) or type(detail).__name__
    return InvalidFile(f"this PDF cannot be read, even with repairs ({reason}); export it again")


def inspect_pdf(data: bytes) -> PdfFacts:
    """Raises UnsupportedType (not a PDF) or InvalidFile (unreadable, password, no pages)."""
    # Readers tolerate junk before the header; we do not, so no HTML/PDF polyglot gets stored.
    if not data.startswith(b"%PDF-"):
        raise UnsupportedType(NOT_A_PDF)
    end = data.rfind(b"%%EOF")
    if end >= 0 and _OTHER_FORMAT_RE.search(data, end):
        raise InvalidFile(TWO_FORMATS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            facts, normalised = _normalise(data)
    except pikepdf.PasswordError:
        raise InvalidFile(PROTECTED) from None
    except _PDF_ERRORS as error:
        raise _unreadable(error) from None
    _check_reader_opens(data)
    _check_pages_render(normalised, facts.page_count)
    return facts


def _normalise(data: bytes) -> tuple[PdfFacts, bytes]:
    """The facts, and the normalised copy downloads are stamped from (repaired, decrypted,
    without active content)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pages = len(pdf.pages)
        if pages == 0:
            raise InvalidFile("this PDF has no pages")
        if pages > MAX_PAGES:
            raise InvalidFile(f"this PDF has more than {MAX_PAGES:,} pages; split it")
        removed = strip_active_content(pdf)
        if pdf.is_encrypted:
            removed.append(OWNER_RESTRICTIONS)
        out = io.BytesIO()
        pdf.save(out)
        found = [plain(w) for w in pdf.get_warnings()]
        return (
            PdfFacts(
                page_count=pages,
                pdf_version=str(pdf.pdf_version),
                warnings=tuple(dict.fromkeys(w for w in found if w))[:MAX_WARNINGS],
                removed=tuple(removed),
            ),
            out.getvalue(),
        )


def _check_reader_opens(data: bytes) -> None:
    """pdfium must open the file as it came: a reader that asks for a password (or gives up)
    is a refusal, whatever qpdf could recover."""
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            if "password" in str(error).lower():
                raise InvalidFile(PROTECTED) from None
            raise _unreadable("PDF readers cannot open it") from None
        document.close()


def _check_pages_render(normalised: bytes, pages: int) -> None:
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(normalised)
        except pdfium.PdfiumError:
            raise _unreadable("PDF readers cannot open it once repaired") from None
        try:
            if len(document) != pages:
                raise _unreadable("PDF readers see a different number of pages")
            for index in range(pages):
                try:
                    page = document[index]
                    width, height = page.get_size()
                    scale = RENDER_PIXELS / max(width, height, 1.0)
                    page.render(scale=scale, may_draw_forms=False).close()
                    page.close()
                except (pdfium.PdfiumError, ValueError):
                    raise _unreadable(f"page {index + 1} cannot be drawn") from None
        finally:
            document.close()
