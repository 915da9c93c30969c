"""The HTTP shape of a download, shared by the pages and the API."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask, Request, Response

from artifact.catalog.services.downloads import Download
from artifact.kernel.filenames import content_disposition

DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


def download_headers(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Security-Policy": DOWNLOAD_CSP,
    }


def download_response(result: Download) -> Response:
    response = Response(result.body, mimetype=result.content_type,
                        headers=download_headers(result.filename))
    response.headers["X-Artifact-Receipt"] = result.receipt
    return response


def head_response(filename: str, size: int) -> Response:
    """HEAD: the headers a download would have, nothing served, nothing recorded."""
    response = Response(b"", mimetype="application/pdf", headers=download_headers(filename))
    return response


class InMemoryUploadRequest(Request):
    """Uploads stay in memory (bounded by MAX_CONTENT_LENGTH) instead of spooling to a temp
    file, so no plaintext of a confidential document ever touches the disk unencrypted."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> Any:
        return io.BytesIO()


def read_upload(storage: Any, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of an upload (one more tells the service it is too big)."""
    return bytes(storage.stream.read(limit + 1))


def init_app(app: Flask) -> None:
    app.request_class = InMemoryUploadRequest
