"""The sandboxed WeasyPrint renderer: our assets load, nothing else does."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pypdfium2 as pdfium

from artifact.infra.pdf.render import SafeFetcher, render_pdf


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_renders_text_and_our_stylesheet() -> None:
    fetcher = SafeFetcher()
    html = '<link rel="stylesheet" href="print.css"><h1>Hello auditor</h1>'
    data = render_pdf(html, fetcher)
    assert data.startswith(b"%PDF-")
    assert "Hello auditor" in pdf_text(data)
    assert fetcher.refused == []


def test_local_files_and_network_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/x.png"
        html = (
            f'<img src="file:///etc/passwd"><img src="{url}">'
            f'<link rel="stylesheet" href="{secret.as_uri()}">'
            '<img src="../../../../etc/hostname"><p>body</p>'
        )
        fetcher = SafeFetcher()
        data = render_pdf(html, fetcher)
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []
    assert len(fetcher.refused) == 4
    assert "TOPSECRET" not in pdf_text(data)
