"""Issue a stamped copy of a PDF: a cover page (with the confidentiality terms, unless the
report is public) and a visible watermark on every page, both rendered by WeasyPrint in one go
(embedded subsets of Unicode fonts, so every name reads as typed), the watermark drawn through
one shared Form XObject; the receipt id in the document metadata, so a leaked copy names the
download it came from. Copies are made from a normalised original: repaired by qpdf, decrypted
and without active content."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pikepdf
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pikepdf import Name

from artifact.config import TEMPLATE_FOLDER
from artifact.infra.pdf.pdfium_lock import PDFIUM_LOCK
from artifact.infra.pdf.render import render_pdf
from artifact.infra.pdf.sanitize import strip_active_content

RECEIPT_KEY = "/ArtifactReceipt"
RECEIPT_RE = re.compile(r"receipt ([0-9a-f]{20})")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_jinja = Environment(
    loader=FileSystemLoader(Path(TEMPLATE_FOLDER) / "pdf"),
    autoescape=select_autoescape(default=True),
)


def _clean(text: str) -> str:
    """No control or bidirectional characters: a name cannot reorder the stamped line."""
    return _CONTROL_RE.sub("", text)


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    organization: str
    at: datetime
    receipt: str

    def stamp_parts(self) -> list[str]:
        """The stamped line in pieces that are never broken across lines."""
        name, email, org = _clean(self.name), _clean(self.email), _clean(self.organization)
        who = f"{name} <{email}>" if name and name != email else email
        when = self.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return [
            f"Issued to {who}{',' if org else ''}",
            *([org] if org else []),
            f"at {when}",
            f"- receipt {self.receipt}",
        ]

    def stamp_line(self) -> str:
        return " ".join(self.stamp_parts())


@dataclass(frozen=True)
class CoverFacts:
    title: str
    version: int
    sha256: str
    issuer: str
    period: str
    terms: str
    # A public document's copy names its recipient but claims no confidentiality.
    public: bool = False


def render_cover(facts: CoverFacts, recipient: Recipient) -> bytes:
    """The cover page(s), then one last page: the watermark."""
    html = _jinja.get_template("cover.html").render(
        facts=facts, recipient=recipient, stamp_line=recipient.stamp_line()
    )
    return render_pdf(html)


def stamp_pages(pdf: pikepdf.Pdf, watermark: pikepdf.Page) -> None:
    """Draw ``watermark`` on every page of ``pdf`` through one shared Form XObject, fitted to
    the part of the page a reader shows (its crop box)."""
    form = pdf.copy_foreign(watermark.as_form_xobject())
    for page in pdf.pages:
        page.add_overlay(form, pikepdf.Rectangle(page.cropbox))


def issue_copy(original: bytes, facts: CoverFacts, recipient: Recipient) -> bytes:
    """The cover page, then the original pages, all watermarked; the receipt in the metadata."""
    rendered_bytes = render_cover(facts, recipient)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # qpdf's notes on a damaged original: recorded at upload
        with (
            pikepdf.open(io.BytesIO(original)) as pdf,
            pikepdf.open(io.BytesIO(rendered_bytes)) as rendered,
        ):
            return _stamped(pdf, rendered, recipient)


def _stamped(pdf: pikepdf.Pdf, rendered: pikepdf.Pdf, recipient: Recipient) -> bytes:
    strip_active_content(pdf)
    *cover, watermark = rendered.pages
    for index, page in enumerate(cover):
        pdf.pages.insert(index, page)
    stamp_pages(pdf, watermark)
    pdf.docinfo[Name(RECEIPT_KEY)] = recipient.receipt
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def sanitized_copy(data: bytes) -> tuple[bytes, list[str]]:
    """``data`` without active content, and what was removed; ``data`` itself (byte for byte)
    when there was nothing to remove. Raises pikepdf.PdfError for a PDF qpdf cannot open."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pikepdf.open(io.BytesIO(data)) as pdf:
            return _without_active_content(pdf, data)


def _without_active_content(pdf: pikepdf.Pdf, data: bytes) -> tuple[bytes, list[str]]:
    removed = strip_active_content(pdf)
    if not removed:
        return data, []
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue(), removed


def read_receipt(data: bytes) -> str | None:
    """The receipt id of a copy: from the metadata, else from the stamped text of a page."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            value = pdf.docinfo.get(Name(RECEIPT_KEY))
            if value is not None and re.fullmatch(r"[0-9a-f]{20}", str(value)):
                return str(value)
    except pikepdf.PdfError:
        pass
    return _receipt_from_text(data)


def _receipt_from_text(data: bytes) -> str | None:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return None
        try:
            for index in range(len(document)):
                page = document[index]
                textpage = page.get_textpage()
                try:
                    match = RECEIPT_RE.search(textpage.get_text_range())
                finally:
                    textpage.close()
                    page.close()
                if match:
                    return match.group(1)
        finally:
            document.close()
    return None
