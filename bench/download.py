"""Download benchmarks (prints figures; asserts nothing).

1. Encrypted-download throughput: the blob store's streaming decryption served by Flask, as a
   ratio to Flask's plain ``send_file`` of the same bytes (target >= 0.8x).
2. Watermarking a 300-page PDF with our shared overlay, as a ratio to a bare pikepdf overlay of
   a trivial page (target <= 1.5x); the whole stamped copy (cover page and watermark rendered by
   WeasyPrint, active content removed, metadata) is printed too.

Sizes: BENCH_MB (default 64) and BENCH_PAGES (default 300)."""

from __future__ import annotations

import io
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pikepdf  # noqa: E402
from flask import Flask, Response, send_file  # noqa: E402

from artifact.infra.pdf.stamp import (  # noqa: E402
    CoverFacts,
    Recipient,
    issue_copy,
    render_cover,
    stamp_pages,
)
from artifact.infra.storage import BlobStore, Keyring  # noqa: E402

MB = int(os.environ.get("BENCH_MB", "64"))
PAGES = int(os.environ.get("BENCH_PAGES", "300"))
ROUNDS = 5


def best_of(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def throughput(work: Path) -> None:
    plain = work / "plain.bin"
    plain.write_bytes(secrets.token_bytes(MB * 1024 * 1024))
    ring = Keyring(work / "keys" / "keyring.json")
    ring.create()
    store = BlobStore(work / "blobs", ring)
    with plain.open("rb") as source:
        blob = store.put(source)
    app = Flask(__name__)
    app.add_url_rule("/plain", "plain", lambda: send_file(plain, mimetype="application/pdf"))
    app.add_url_rule(
        "/encrypted",
        "encrypted",
        lambda: Response(
            store.read_chunks(blob.id),
            mimetype="application/pdf",
            headers={"Content-Length": str(blob.size)},
        ),
    )
    client = app.test_client()

    def fetch(path: str) -> None:
        response = client.get(path, buffered=False)
        total = sum(len(chunk) for chunk in response.response)
        response.close()
        assert total == blob.size, (path, total)

    t_plain = best_of(lambda: fetch("/plain"))
    t_enc = best_of(lambda: fetch("/encrypted"))
    t_read = best_of(lambda: plain.read_bytes())
    print(f"encrypted download of {MB} MiB through Flask (best of {ROUNDS}):")
    print(f"  plain send_file       {MB / t_plain:8.1f} MiB/s")
    print(f"  encrypted, streamed   {MB / t_enc:8.1f} MiB/s")
    print(f"  ratio encrypted/plain {t_plain / t_enc:8.2f}x   (target >= 0.8x)")
    print(f"  (raw file read        {MB / t_read:8.1f} MiB/s, for scale)")


def big_pdf(pages: int) -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for number in range(1, pages + 1):
        page = pdf.add_blank_page(page_size=(595, 842))
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        lines = b"\n".join(
            b"0 -14 Td (Line %d of page %d: control evidence text.) Tj" % (i, number)
            for i in range(40)
        )
        page.obj.Contents = pdf.make_stream(b"BT /F1 10 Tf 56 800 Td " + lines + b" ET")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def bare_overlay(data: bytes) -> bytes:
    overlay = pikepdf.new()
    overlay.add_blank_page(page_size=(612, 792))
    overlay.pages[0].obj.Contents = overlay.make_stream(b"0 0 1 1 re f")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        form = pdf.copy_foreign(overlay.pages[0].as_form_xobject())
        for page in pdf.pages:
            page.add_overlay(form, pikepdf.Rectangle(page.mediabox))
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def our_watermark(data: bytes, rendered: pikepdf.Pdf) -> bytes:
    """The watermark page (rendered once, outside the timing) drawn on every page."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        stamp_pages(pdf, rendered.pages[-1])
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def watermark() -> None:
    data = big_pdf(PAGES)
    recipient = Recipient(
        "Alice Acme",
        "alice@acme-health.test",
        "Acme Health",
        datetime.now(UTC),
        "0123456789abcdef0123",
    )
    facts = CoverFacts("Bench report", 1, "0" * 64, "Bench", "", "Confidential.")
    issue_copy(data, facts, recipient)  # warm up WeasyPrint's fonts
    rendered = pikepdf.open(io.BytesIO(render_cover(facts, recipient)))
    t_bare = best_of(lambda: bare_overlay(data))
    t_ours = best_of(lambda: our_watermark(data, rendered))
    t_full = best_of(lambda: issue_copy(data, facts, recipient))
    print(f"watermark of a {PAGES}-page PDF (best of {ROUNDS}):")
    print(f"  bare pikepdf overlay  {t_bare * 1000:8.0f} ms")
    print(f"  our watermark         {t_ours * 1000:8.0f} ms")
    print(f"  ratio ours/bare       {t_ours / t_bare:8.2f}x   (target <= 1.5x)")
    print(
        f"  whole stamped copy    {t_full * 1000:8.0f} ms   "
        f"({t_full / t_bare:.2f}x; adds rendering the cover and watermark with WeasyPrint, "
        "removing active content and the metadata)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="artifact-bench-") as tmp:
        throughput(Path(tmp))
    watermark()


if __name__ == "__main__":
    main()
