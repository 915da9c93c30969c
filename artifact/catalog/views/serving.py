"""Serving a report, shared by the download page and the API's download; and an uploaded
original, to staff."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request
from werkzeug.wrappers import Response

from artifact.catalog.services import downloads
from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.kernel.errors import NotFound, TermsRequired
from artifact.web.args import version_arg
from artifact.web.files import file_response
from artifact.web.security import current_caller

TermsAnswer = Callable[[TermsRequired], Response]


def serve_report(report_id: str, on_terms: TermsAnswer | None = None) -> Response:
    """A stamped copy of the latest (or ``?version=N``) version. HEAD: the headers the copy
    would have, its ``Content-Length`` the stored size (the stamped copy's is known only once
    it is made); nothing is stamped, but the access is recorded (and counted in the download
    budget) like a GET. A download the terms gate stops raises
    ``TermsRequired`` (428) unless ``on_terms`` answers it (a page sends the user to the
    agreement)."""
    caller = current_caller()
    if request.method == "HEAD":
        report, version = downloads.head(db.session, caller, report_id, version_arg())
        return file_response(
            b"",
            filename=downloads.download_name(report, version),
            content_type="application/pdf",
            head=True,
            size=version.size,
        )
    try:
        result = downloads.download(
            db.session, caller, store_for(current_app), report_id, version_arg()
        )
    except TermsRequired as error:
        if on_terms is None:
            raise
        return on_terms(error)
    return file_response(
        result.body,
        filename=result.filename,
        content_type=result.content_type,
        receipt=result.receipt,
    )


def serve_original(report_id: str, number: int) -> Response:
    """Version ``number`` exactly as uploaded, its SHA-256 in ``X-Artifact-SHA256`` (staff;
    404 for anyone else)."""
    if number < 1:
        raise NotFound("no such version")
    result = downloads.original(
        db.session, current_caller(), store_for(current_app), report_id, number
    )
    return file_response(
        result.body,
        filename=result.filename,
        content_type=result.content_type,
        sha256=result.sha256,
    )
