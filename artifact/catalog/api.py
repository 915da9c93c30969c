"""Reports, versions, downloads, grants and access requests in the JSON API."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from werkzeug.wrappers import Response

from artifact.catalog.services import grants, report_terms, reports
from artifact.catalog.views.browse import catalog_filters
from artifact.catalog.views.serving import serve_report
from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.kernel.errors import ValidationFailed
from artifact.models.base import utcnow
from artifact.web.access import require
from artifact.web.files import read_upload
from artifact.web.json_api import api
from artifact.web.ratelimit import download_budget
from artifact.web.security import current_caller


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object")
    return body


def _str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(f"{name} must be a string")
    return value


@api.get("/reports")
@require("report.list")
def list_reports() -> dict[str, Any]:
    """Visible reports, filtered."""
    found = reports.list_reports(db.session, current_caller(), **catalog_filters())
    today = utcnow().date()
    unmet = report_terms.unmet_terms(db.session, current_caller(), found)
    items = [
        reports.report_json(r, today, needs_terms=r.terms_agreement_id in unmet) for r in found
    ]
    return {"items": items, "total": len(found)}


@api.post("/reports")
@require("report.create")
def create_report() -> tuple[dict[str, Any], int]:
    """Create a report (draft)."""
    report = reports.create_report(db.session, current_caller(), json_body())
    return reports.report_json(report, utcnow().date(), with_versions=True), 201


@api.get("/reports/<report_id>")
@require("report.view")
def get_report(report_id: str) -> dict[str, Any]:
    """One report with its versions."""
    report = reports.get_report(db.session, current_caller(), report_id)
    return reports.report_json(
        report,
        utcnow().date(),
        with_versions=True,
        needs_terms=report_terms.needs_terms(db.session, current_caller(), report),
    )


@api.post("/reports/<report_id>/terms")
@require("report.set_terms")
def set_terms(report_id: str) -> dict[str, Any]:
    """Require acceptance of an agreement before downloads (``null`` for none)."""
    report = report_terms.set_terms(
        db.session, current_caller(), report_id, _str(json_body(), "terms_agreement_id")
    )
    return reports.report_json(report, utcnow().date(), with_versions=True)


@api.post("/reports/<report_id>/versions")
@require("report.upload")
def upload_version(report_id: str) -> tuple[dict[str, Any], int]:
    """Upload the next version (multipart ``file``)."""
    storage = request.files.get("file")
    if storage is None:
        raise ValidationFailed("send the file as multipart form field 'file'")
    limit = current_app.config["REPORT_MAX_BYTES"]
    version = reports.add_version(
        db.session,
        current_caller(),
        store_for(current_app),
        report_id,
        read_upload(storage, limit),
        storage.filename,
        limit,
    )
    return {
        "number": version.number,
        "sha256": version.sha256,
        "size": version.size,
        "filename": version.filename,
        "pages": version.page_count,
    }, 201


@api.post("/reports/<report_id>/state")
@require("report.set_state")
def set_state(report_id: str) -> dict[str, Any]:
    """Publish, mark outdated, retire or return to draft."""
    report = reports.set_state(
        db.session, current_caller(), report_id, _str(json_body(), "state") or ""
    )
    return reports.report_json(report, utcnow().date(), with_versions=True)


@api.route("/reports/<report_id>/download", methods=["GET", "HEAD"])
@download_budget
@require("report.download")
def download(report_id: str) -> Response:
    """A stamped copy of the latest (or ``?version=N``) version."""
    return serve_report(report_id)


@api.post("/grants")
@require("grant.create")
def create_grant() -> tuple[dict[str, Any], int]:
    """Grant a user or organisation access to a report, series or category."""
    body = json_body()
    grant = grants.create_grant(
        db.session,
        current_caller(),
        report_id=_str(body, "report_id"),
        series=_str(body, "series"),
        category=_str(body, "category"),
        user_email=_str(body, "user"),
        organization=_str(body, "organization"),
        expires_at=_str(body, "expires_at"),
    )
    return grants.grant_json(grant), 201


@api.get("/access-requests")
@require("access_request.list")
def list_access_requests() -> dict[str, Any]:
    """Pending access requests (staff)."""
    items = grants.list_requests(db.session, current_caller())
    return {"items": [grants.request_json(r) for r in items], "total": len(items)}


@api.post("/access-requests")
@require("access_request.create")
def create_access_request() -> tuple[dict[str, Any], int]:
    """Ask for access to a report, series or category."""
    body = json_body()
    created = grants.request_access(
        db.session,
        current_caller(),
        report_id=_str(body, "report_id"),
        series=_str(body, "series"),
        category=_str(body, "category"),
        message=_str(body, "message") or "",
    )
    return grants.request_json(created), 201


@api.post("/access-requests/<request_id>/approve", defaults={"decision": "approve"})
@api.post("/access-requests/<request_id>/deny", defaults={"decision": "deny"})
@require("access_request.decide")
def decide_access_request(request_id: str, decision: str) -> dict[str, Any]:
    """Approve (optional ``expires_at``) or deny."""
    body = request.get_json(silent=True) or {}
    decided = grants.decide_request(
        db.session, current_caller(), request_id, decision == "approve", body.get("expires_at")
    )
    return grants.request_json(decided)
