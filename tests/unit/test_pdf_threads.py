"""PDFium is not thread-safe (not even across documents): a threaded server or worker running
two uploads at once must get the same text and the same verdicts as one at a time, with no crash.
Every pdfium call holds one process-wide lock (artifact/infra/pdf/pdfium_lock.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from artifact.infra.pdf.inspect import inspect_pdf
from artifact.infra.pdf.text import page_texts
from tests.conftest import corpus_path

FILES = (
    ("fedramp-public-domain", "pdf", "CSP_Penetration_Test_Guidance.pdf"),
    ("fedramp-public-domain", "pdf", "CSP_Incident_Communications_Procedures.pdf"),
    ("nist-oscal-presentations", "slides-2023-02-09.pdf"),
)


def _pdfs() -> list[bytes]:
    return [corpus_path("files", *parts).read_bytes() for parts in FILES]


def test_text_of_real_pdfs_from_eight_threads_matches_one_thread() -> None:
    pdfs = _pdfs()
    expected = [page_texts(data) for data in pdfs]
    assert all(any(page.strip() for page in texts) for texts in expected)
    jobs = [index % len(pdfs) for index in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda index: (index, page_texts(pdfs[index])), jobs))
    for index, texts in results:
        assert texts == expected[index]


def test_intake_of_real_pdfs_from_four_threads_matches_one_thread() -> None:
    pdfs = _pdfs()
    expected = [inspect_pdf(data).page_count for data in pdfs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda data: inspect_pdf(data).page_count, pdfs * 2))
    assert results == expected * 2
