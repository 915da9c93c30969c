"""The acceptance certificate PDF: the record, the hash and the text; hostile input stays text."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from artifact.agreements.services import acceptance as agreements_accept
from artifact.agreements.services import records as agreement_records
from artifact.agreements.services.certificate import render_certificate
from artifact.extensions import db
from artifact.infra.pdf.render import SafeFetcher
from artifact.kernel.caller import Caller
from tests.unit.test_pdf_render import pdf_text


def _squash(text: str) -> str:
    """PDF text extraction breaks long lines; compare without whitespace."""
    return "".join(text.split())


@pytest.fixture
def loopback() -> Iterator[tuple[int, list[str]]]:
    """A local HTTP server that records every request it receives."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, hits
    finally:
        server.shutdown()
        server.server_close()


def test_certificate_holds_name_hash_record_and_text(nda, make_user) -> None:
    customer = make_user("customer", org="Acme Health", name="Carla Q. Customer")
    acceptance = agreements_accept.accept(
        db.session,
        Caller.of_user(customer, ip_address="203.0.113.7"),
        nda.id,
        version=1,
        typed_name="Carla Q. Customer",
        scope="account",
        user_agent="Firefox/999",
    )
    data, filename = agreement_records.certificate_pdf(
        db.session, Caller.of_user(customer), acceptance.id
    )
    assert filename == f"acceptance-{acceptance.id}.pdf"
    text = pdf_text(data)
    assert "Carla Q. Customer" in text
    assert acceptance.text_sha256 in _squash(text)
    assert "203.0.113.7" in text
    assert "The text below hashes to this value." in text
    assert "Keep it safe." in text  # the full accepted text
    assert "<b>Not</b> markup & co." in text


def test_hostile_typed_name_is_printed_and_fetches_nothing(nda, make_user, loopback) -> None:
    port, hits = loopback
    hostile = (
        f'<img src="file:///etc/passwd"><link rel=stylesheet '
        f'href="http://127.0.0.1:{port}/x"><style>@import "http://127.0.0.1:{port}/y";'
        "</style>"
    )
    # The account's name is the hostile text, so the signature matches and is recorded.
    customer = make_user("customer", org="Acme Health", name=hostile)
    acceptance = agreements_accept.accept(
        db.session,
        Caller.of_user(customer),
        nda.id,
        version=1,
        typed_name=hostile,
        scope="account",
        user_agent=f'<img src="http://127.0.0.1:{port}/ua">',
    )
    fetcher = SafeFetcher()
    data = render_certificate(agreement_records.certificate_context(acceptance), fetcher)
    text = pdf_text(data)
    assert hits == []
    assert fetcher.refused == []  # nothing was even attempted: the markup never became markup
    assert _squash(hostile) in _squash(text)
    assert "root:x:0:0" not in text
