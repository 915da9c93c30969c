"""Evidence and coverage in the JSON API (evidence: staff only, 404 to everyone else)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from werkzeug.wrappers import Response

from artifact.evidence import services as evidence
from artifact.evidence.views import evidence_filters, serve_evidence, upload_limits
from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.infra.storage import store_for
from artifact.kernel.errors import ValidationFailed
from artifact.models.base import utcnow
from artifact.web.access import require, require_hidden
from artifact.web.files import read_upload
from artifact.web.json_api import api
from artifact.web.ratelimit import download_budget
from artifact.web.security import current_caller

_FIELDS = ("title", "description", "owner", "effective_date", "expires_on")


def _upload() -> tuple[bytes, str | None]:
    storage = request.files.get("file")
    if storage is None:
        raise ValidationFailed("send the file as multipart form field 'file'")
    return read_upload(storage, upload_limits().max_bytes), storage.filename


def _requirements_field() -> list[str]:
    return request.form.getlist("requirements")


def _approval_note() -> str:
    """An approval's optional JSON body, ``{"note": "..."}``."""
    if not request.get_data():
        return ""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed('send no body, or a JSON object {"note": "..."}')
    note = body.get("note", "")
    if not isinstance(note, str):
        raise ValidationFailed("'note' must be a string")
    return note


@api.get("/evidence")
@require_hidden("evidence.list")
def list_evidence_items() -> dict[str, Any]:
    """Evidence (staff), filtered by ``state``, ``framework`` (key), ``owner`` (e-mail)."""
    state = request.args.get("state")
    if state not in (None, "", *evidence.state_choices()):  # as sent: " draft" is no state
        raise ValidationFailed(f"the state must be one of {', '.join(evidence.state_choices())}")
    today = utcnow().date()
    found = evidence.list_evidence(db.session, current_caller(), today, **evidence_filters())
    return {"items": [evidence.evidence_json(e, today) for e in found], "total": len(found)}


@api.post("/evidence")
@require_hidden("evidence.upload")
def create_evidence_item() -> tuple[dict[str, Any], int]:
    """Upload new evidence: multipart ``file`` and fields."""
    data, filename = _upload()
    values: dict[str, Any] = {name: request.form.get(name) for name in _FIELDS}
    values["requirements"] = _requirements_field()
    created = evidence.create_evidence(
        db.session,
        current_caller(),
        store_for(current_app),
        values,
        data,
        filename,
        upload_limits(),
    )
    return evidence.evidence_json(created, utcnow().date(), full=True), 201


@api.get("/evidence/<evidence_id>")
@require_hidden("evidence.view")
def get_evidence_item(evidence_id: str) -> dict[str, Any]:
    """One evidence item with its versions."""
    found = evidence.get_evidence(db.session, current_caller(), evidence_id)
    return evidence.evidence_json(found, utcnow().date(), full=True)


@api.post("/evidence/<evidence_id>/versions")
@require_hidden("evidence.upload")
def add_evidence_version(evidence_id: str) -> tuple[dict[str, Any], int]:
    """A new version (multipart ``file``, optional new ``effective_date``/``expires_on``)."""
    data, filename = _upload()
    version = evidence.add_version(
        db.session,
        current_caller(),
        store_for(current_app),
        evidence_id,
        data,
        filename,
        {n: request.form.get(n) for n in ("effective_date", "expires_on")},
        upload_limits(),
    )
    return {
        "number": version.number,
        "sha256": version.sha256,
        "size": version.size,
        "type": version.file_type,
        "filename": version.filename,
    }, 201


@api.post("/evidence/<evidence_id>/requirements")
@require_hidden("evidence.edit")
def set_requirements(evidence_id: str) -> dict[str, Any]:
    """Replace the linked requirements: ``{"requirements": ["framework:ref", ...]}``."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("requirements"), list):
        raise ValidationFailed('send {"requirements": ["framework:ref", ...]}')
    changed = evidence.set_links(db.session, current_caller(), evidence_id, body["requirements"])
    return evidence.evidence_json(changed, utcnow().date(), full=True)


@api.post("/evidence/<evidence_id>/submit", defaults={"step": "submit"})
@api.post("/evidence/<evidence_id>/approve", defaults={"step": "approve"})
@api.post("/evidence/<evidence_id>/send-back", defaults={"step": "send_back"})
@require_hidden("evidence.submit")
def change_evidence_state(evidence_id: str, step: str) -> dict[str, Any]:
    """Submit for review, approve (someone other than the uploader), or send back to draft."""
    args = (db.session, current_caller(), evidence_id)
    if step == "approve":
        changed = evidence.approve(*args, note=_approval_note())
    else:
        changed = getattr(evidence, step)(*args)
    return evidence.evidence_json(changed, utcnow().date(), full=True)


@api.get("/evidence/<evidence_id>/download")
@download_budget
@require_hidden("evidence.download")
def download_evidence(evidence_id: str) -> Response:
    """The current (or ``?version=N``) file, verified against its SHA-256."""
    if request.args.get("version") == "":
        raise ValidationFailed("version must be a positive whole number")
    return serve_evidence(evidence_id)


@api.get("/frameworks/<framework_id>/coverage")
@require("framework.view")
def coverage(framework_id: str) -> dict[str, Any]:
    """Coverage per requirement; evidence and freshness only for staff."""
    framework = frameworks.get_framework(db.session, current_caller(), framework_id=framework_id)
    return evidence.coverage_json(
        evidence.framework_coverage(db.session, current_caller(), framework, utcnow().date())
    )
