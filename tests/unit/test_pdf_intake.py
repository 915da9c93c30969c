"""The PDF rules without the web: what the intake accepts of every corpus PDF and why it refuses
the rest, what sanitising removes, and what a stamped copy says."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest

from artifact.infra.pdf.inspect import PROTECTED, inspect_pdf
from artifact.infra.pdf.stamp import CoverFacts, Recipient, issue_copy, sanitized_copy
from artifact.kernel.errors import InvalidFile, UnsupportedType
from tests.conftest import corpus_path
from tests.fixtures_catalog import (
    QPDF,
    QPDF_REFUSED,
    active_content_left,
    make_active_pdf,
    make_pdf,
    page_texts,
)

FOLDERS = (
    "fedramp-public-domain",
    "nist-oscal-presentations",
    "py-pdf-sample-files",
    QPDF,
)
# Every corpus PDF a reader cannot open, and the words of the reason given.
REFUSED = {
    **QPDF_REFUSED,
    "libreoffice-writer-password.pdf": "protected by a password",
    "unreadablemetadata.pdf": "cannot be read, even with repairs (root of pages tree",
}
RECEIPT = "0123456789abcdef0123"


def _corpus_pdfs() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in corpus_path("files", folder).rglob("*.pdf"))


def test_every_corpus_pdf_is_accepted_or_refused_with_its_reason() -> None:
    paths = _corpus_pdfs()
    assert len(paths) >= 80
    refused = {}
    for path in paths:
        try:
            facts = inspect_pdf(path.read_bytes())
        except (InvalidFile, UnsupportedType) as error:
            refused[path.name] = error.message
            continue
        assert facts.page_count > 0, path.name
    assert sorted(refused) == sorted(REFUSED)
    for name, words in REFUSED.items():
        assert words in refused[name], (name, refused[name])


def test_repairs_are_kept_as_warnings_and_restrictions_lifted() -> None:
    guide = corpus_path(
        "files", "fedramp-public-domain", "pdf", "3PAO_Readiness_Assessment_Report_Guide.pdf"
    )
    facts = inspect_pdf(guide.read_bytes())
    assert facts.page_count == 20
    assert any("dictionary has duplicated key" in w for w in facts.warnings)
    assert not any("BytesIO" in w for w in facts.warnings)
    owner_only = corpus_path("files", QPDF, "encrypted-with-images.pdf").read_bytes()
    assert any("needs no password" in r for r in inspect_pdf(owner_only).removed)


def test_a_password_is_a_plain_reason() -> None:
    data = corpus_path("files", QPDF, "encrypted-40-bit-R3.pdf").read_bytes()
    with pytest.raises(InvalidFile) as raised:
        inspect_pdf(data)
    assert raised.value.message == PROTECTED


def test_sanitising_removes_active_content_and_keeps_links() -> None:
    data = make_active_pdf()
    facts = inspect_pdf(data)
    for words in ("JavaScript", "Launch", "embedded file", "additional actions", "XFA"):
        assert any(words in r for r in facts.removed), (words, facts.removed)
    clean, removed = sanitized_copy(data)
    assert removed == list(facts.removed)
    assert active_content_left(clean) == ["URI https://example.com/trust"]
    assert all("ACTIVE-CONTENT" in text for text in page_texts(clean))
    plain = make_pdf(2)
    assert sanitized_copy(plain) == (plain, [])  # nothing to remove: served as stored


def _copy(data: bytes, name: str = "Ann Example", *, public: bool = False) -> bytes:
    facts = CoverFacts(
        title="SOC 2 Type II",
        version=1,
        sha256="0" * 64,
        issuer="Ledger Auditors",
        period="2025-01-01 to 2025-06-30",
        terms="This document is confidential.",
        public=public,
    )
    recipient = Recipient(
        name=name,
        email="reader@example.test",
        organization="Acme Health",
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        receipt=RECEIPT,
    )
    return issue_copy(data, facts, recipient)


def test_a_copy_of_active_content_carries_none_of_it() -> None:
    copy = _copy(make_active_pdf())
    assert active_content_left(copy) == ["URI https://example.com/trust"]


def test_the_watermark_fits_pages_of_any_size_and_rotation() -> None:
    pdf = pikepdf.open(io.BytesIO(make_pdf(2, size=(842, 595))))
    pdf.pages[1].obj.Rotate = 90
    out = io.BytesIO()
    pdf.save(out)
    texts = page_texts(_copy(out.getvalue()))
    assert len(texts) == 3
    assert all(f"receipt {RECEIPT}" in text for text in texts)


def test_the_work_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from artifact.infra.pdf import inspect

    monkeypatch.setattr(inspect, "MAX_PAGES", 3)
    assert inspect_pdf(make_pdf(3)).page_count == 3
    with pytest.raises(InvalidFile, match="more than 3 pages; split it"):
        inspect_pdf(make_pdf(4))
