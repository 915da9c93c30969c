"""Issue a stamped copy of a PDF: a cover page with the confidentiality terms (WeasyPrint), a
visible watermark on every page (one shared Form XObject drawn by pikepdf) and the receipt id in
the document metadata, so a leaked copy names the download it came from."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pikepdf
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pikepdf import Dictionary, Name

from artifact.config import TEMPLATE_FOLDER
from artifact.infra.pdf.render import render_pdf

RECEIPT_KEY = "/ArtifactReceipt"
RECEIPT_RE = re.compile(r"receipt ([0-9a-f]{20})")
_OVERLAY_SIZE = (612.0, 792.0)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_jinja = Environment(
    loader=FileSystemLoader(Path(TEMPLATE_FOLDER) / "pdf"),
    autoescape=select_autoescape(default=True),
)


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    organization: str
    at: datetime
    receipt: str

    def stamp_line(self) -> str:
        who = f"{self.name} <{self.email}>" if self.name and self.name != self.email else self.email
        org = f", {self.organization}" if self.organization else ""
        when = self.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"Issued to {who}{org} at {when} - receipt {self.receipt}"


@dataclass(frozen=True)
class CoverFacts:
    title: str
    version: int
    sha256: str
    issuer: str
    period: str
    terms: str


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi (the standard Helvetica's encoding)."""
    clean = _CONTROL_RE.sub("", text)
    raw = clean.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def build_overlay(recipient: Recipient) -> pikepdf.Pdf:
    """A one-page PDF holding the watermark: a faint diagonal line and a legible footer."""
    overlay = pikepdf.new()
    page = overlay.add_blank_page(page_size=_OVERLAY_SIZE)
    font = overlay.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type1,
            BaseFont=Name.Helvetica,
            Encoding=Name.WinAnsiEncoding,
        )
    )
    page.obj.Resources = Dictionary(
        Font=Dictionary(F1=font),
        ExtGState=Dictionary(
            Faint=Dictionary(Type=Name.ExtGState, ca=0.13, CA=0.13),
            Clear=Dictionary(Type=Name.ExtGState, ca=0.75, CA=0.75),
        ),
    )
    line = _pdf_string(recipient.stamp_line())
    diagonal = _pdf_string(f"CONFIDENTIAL - {recipient.email} - {recipient.receipt}")
    content = b"\n".join(
        [
            b"q /Faint gs 0.6 0 0 rg BT /F1 20 Tf 0.7071 0.7071 -0.7071 0.7071 90 160 Tm",
            diagonal + b" Tj ET Q",
            b"q /Clear gs 0.45 0 0 rg BT /F1 6.5 Tf 24 12 Td",
            line + b" Tj ET Q",
            b"q /Clear gs 0.45 0 0 rg BT /F1 6.5 Tf 24 782 Td",
            line + b" Tj ET Q",
        ]
    )
    page.obj.Contents = overlay.make_stream(content)
    return overlay


def stamp_pages(pdf: pikepdf.Pdf, overlay: pikepdf.Pdf) -> None:
    """Draw the overlay on every page of ``pdf`` through one shared Form XObject."""
    form = pdf.copy_foreign(overlay.pages[0].as_form_xobject())
    for page in pdf.pages:
        page.add_overlay(form, pikepdf.Rectangle(page.mediabox))


def render_cover(facts: CoverFacts, recipient: Recipient) -> bytes:
    html = _jinja.get_template("cover.html").render(
        facts=facts, recipient=recipient, stamp_line=recipient.stamp_line()
    )
    return render_pdf(html)


def issue_copy(original: bytes, facts: CoverFacts, recipient: Recipient) -> bytes:
    """The cover page, then the original pages, all watermarked; the receipt in the metadata."""
    with (
        pikepdf.open(io.BytesIO(original)) as pdf,
        pikepdf.open(io.BytesIO(render_cover(facts, recipient))) as cover,
    ):
        pdf.pages.insert(0, cover.pages[0])
        stamp_pages(pdf, build_overlay(recipient))
        pdf.docinfo[Name(RECEIPT_KEY)] = recipient.receipt
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


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

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return None
    try:
        for page in document:
            match = RECEIPT_RE.search(page.get_textpage().get_text_range())
            if match:
                return match.group(1)
    finally:
        document.close()
    return None
