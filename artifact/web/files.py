"""Every file the app serves, and how uploads are read.

``file_response`` builds every file response (report and evidence downloads, acceptance
certificates, CSV exports) so their headers cannot drift: an attachment with a safe
``Content-Disposition``, ``nosniff``, ``no-store`` and a sandboxing CSP."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask, Request, Response

from artifact.kernel.filenames import content_disposition

DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"
CSV = "text/csv; charset=utf-8"


def file_response(
    body: bytes,
    *,
    filename: str,
    content_type: str,
    receipt: str | None = None,
    sha256: str | None = None,
    head: bool = False,
    size: int | None = None,
) -> Response:
    """``body`` as the attachment ``filename`` (``content_type`` sent as given). ``receipt``
    and ``sha256`` name the copy (``X-Artifact-Receipt``, ``X-Artifact-SHA256``). ``head``:
    the headers only, for a HEAD request, with ``Content-Length`` of ``size`` (what the GET
    would send, as far as it is known before serving it)."""
    response = Response(
        b"" if head else body,
        content_type=content_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": DOWNLOAD_CSP,
        },
    )
    if receipt is not None:
        response.headers["X-Artifact-Receipt"] = receipt
    if sha256 is not None:
        response.headers["X-Artifact-SHA256"] = sha256
    if head:
        response.headers["Content-Length"] = str(len(body) if size is None else size)
    return response


class InMemoryUploadRequest(Request):
    """Uploads stay in memory (bounded by MAX_CONTENT_LENGTH) instead of spooling to a temp
    file, so no plaintext of a confidential document ever touches the disk unencrypted."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> Any:
        return io.BytesIO()


def read_upload(storage: Any, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of an upload (one more tells the service it is too big)."""
    return bytes(storage.stream.read(limit + 1))


def init_app(app: Flask) -> None:
    app.request_class = InMemoryUploadRequest
