"""Decide whether uploaded bytes are a PDF we can keep, serve and stamp, and say why not.

The type is decided by the content, never the file name. qpdf (through pikepdf) opens the file
without its silent recovery, so a damaged file is refused instead of being quietly rewritten;
encrypted files are refused because every download must be stamped."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import pikepdf

from artifact.kernel.errors import InvalidFile, UnsupportedType

_STARTXREF_RE = re.compile(rb"(?:>>|endobj)\s*startxref\s+(\d+)\s+%%EOF\s*\Z")
# Problems every reader tolerates and our rewrite on download discards: stale linearization hints
# (/E, /O, /T ... mismatches) and qpdf's own "handled correctly by most applications" notice.
_BENIGN_RE = re.compile(r"\(/[A-Z]\) mismatch|object has offset 0 - a common error")
_OBJ_RE = re.compile(rb"\d+\s+\d+\s+obj\b")
# "xref", then subsections: "first count" and that many entries (20 bytes each by the standard;
# real producers also end entries with a bare newline, which every reader accepts).
_XREF_TABLE_RE = re.compile(
    rb"xref[ \t]*(?:\r\n|\r|\n)(?:\d+ \d+[ \t]*(?:\r\n|\r|\n)"
    rb"(?:\d{10} \d{5} [nf](?: \r| \n|\r\n|\n|\r))*)+\s*trailer"
)
_STREAM_NAME_RE = re.compile(r"(?:WARNING: )?stream the file(?: \((?:[^()]|\([^()]*\))*\))?[:,]\s*")


@dataclass(frozen=True)
class PdfFacts:
    page_count: int
    pdf_version: str


def _reason(error: object) -> str:
    """qpdf's message without the in-memory stream's name, shortened."""
    text = " ".join(str(error).split())
    text = re.sub(r"<_io\.BytesIO object at 0x[0-9a-f]+>", "the file", text)
    text = _STREAM_NAME_RE.sub("", text)
    return text[:200] or type(error).__name__


def inspect_pdf(data: bytes) -> PdfFacts:
    """Raises UnsupportedType (not a PDF) or InvalidFile (damaged, encrypted, empty)."""
    # Readers tolerate junk before the header; we do not, so no HTML/PDF polyglot gets stored.
    if not data.startswith(b"%PDF-"):
        raise UnsupportedType(
            "the file is not a PDF (it does not start with a PDF header); reports must be PDF"
        )
    _check_cross_reference(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _inspect_open(data)
    except pikepdf.PasswordError:
        raise InvalidFile(
            "the PDF is encrypted with a password; upload it without "
            "encryption (every download is stamped, which needs the content)"
        ) from None
    except (
        pikepdf.PdfError,
        pikepdf.DataDecodingError,
        RuntimeError,
        ValueError,
        OSError,
        NotImplementedError,
    ) as error:
        raise InvalidFile(f"the PDF is damaged: {_reason(error)}") from None


def _check_cross_reference(data: bytes) -> None:
    """qpdf silently rebuilds a broken cross-reference table; we refuse such files instead, as a
    rebuilt table can make different readers show different content."""
    match = _STARTXREF_RE.search(data[-2048:].rstrip(b"\x00"))
    offset = int(match.group(1)) if match else len(data)
    target = data[offset : offset + 40]
    if not (target.startswith(b"xref") or _OBJ_RE.match(target)):
        raise InvalidFile(
            "the PDF is damaged: its end (the startxref offset before %%EOF) does "
            "not point at the cross-reference table; export it again"
        )
    if target.startswith(b"xref") and not _XREF_TABLE_RE.match(data, offset):
        raise InvalidFile(
            "the PDF is damaged: its cross-reference table is malformed; export it again"
        )


def _check_content(page: pikepdf.Page) -> None:
    for instruction in pikepdf.parse_content_stream(page):
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            instruction.iimage.as_pil_image()  # decodes: damaged image data raises


def _inspect_open(data: bytes) -> PdfFacts:
    with pikepdf.open(io.BytesIO(data), attempt_recovery=False) as pdf:
        if pdf.is_encrypted:
            raise InvalidFile(
                "the PDF is encrypted; upload it without encryption (every "
                "download is stamped, which needs the content)"
            )
        pages = len(pdf.pages)
        if pages == 0:
            raise InvalidFile("the PDF has no pages")
        for page in pdf.pages:
            _check_content(page)
        for obj in pdf.objects:
            if (
                isinstance(obj, pikepdf.Stream)
                and "/DecodeParms" in obj.stream_dict
                and "/Filter" not in obj.stream_dict
            ):
                raise InvalidFile(
                    "the PDF is damaged: a stream has decoding parameters but no filter"
                )
        problems = [str(p) for p in pdf.check_pdf_syntax()] + [str(w) for w in pdf.get_warnings()]
        problems = [p for p in problems if not _BENIGN_RE.search(p)]
        if problems:
            raise InvalidFile(f"the PDF is damaged: {_reason(problems[0])}")
        return PdfFacts(page_count=pages, pdf_version=str(pdf.pdf_version))
