"""Agreements: list, publish, accept, terminate; acceptance history and certificates."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, request

from artifact.agreements.services import acceptance as agreements_accept
from artifact.agreements.services import agreements
from artifact.agreements.services import records as agreement_records
from artifact.extensions import db
from artifact.kernel.errors import ValidationFailed
from artifact.models import Acceptance, Agreement
from artifact.web.access import require
from artifact.web.files import file_response
from artifact.web.input_guard import large_body
from artifact.web.json_api import api
from artifact.web.security import current_caller

_SHA256 = re.compile(r"[0-9a-f]{64}")

# An agreement's full text (up to 200,000 characters) is more than an ordinary form.
AGREEMENT_BODY_MAX = 2 * 1024 * 1024


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object")
    return body


def _str(body: dict[str, Any], key: str, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str):
        raise ValidationFailed(f"{key!r} must be a string")
    return value


def _version(body: dict[str, Any]) -> int:
    """The version a caller accepts: a JSON integer (the pages send their form's text)."""
    value = body.get("version")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed("'version' must be a whole number")
    return value


def _shown_sha256(body: dict[str, Any]) -> str | None:
    """The optional hash of the text the caller showed: 64 lower-case hex digits."""
    if "text_sha256" not in body:
        return None
    value = body["text_sha256"]
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ValidationFailed("'text_sha256' must be 64 lower-case hexadecimal digits")
    return value


def acceptance_json(acceptance: Acceptance) -> dict[str, Any]:
    ended = acceptance.termination
    return {
        "id": acceptance.id,
        "agreement_id": acceptance.agreement_id,
        "version": acceptance.version_number,
        "scope": acceptance.scope,
        "typed_name": acceptance.typed_name,
        "accepted_at": acceptance.accepted_at.isoformat(),
        "text_sha256": acceptance.text_sha256,
        "user": acceptance.user.email,
        "organization": acceptance.organization.name if acceptance.organization else None,
        "terminated_at": ended.effective_at.isoformat() if ended else None,
    }


def agreement_json(agreement: Agreement) -> dict[str, Any]:
    current = agreement.current
    covering = agreements.covering_acceptance(db.session, current_caller(), agreement)
    return {
        "id": agreement.id,
        "title": agreement.title,
        "kind": agreement.kind,
        "current_version": current.number,
        "text_sha256": current.text_sha256,
        "published_at": current.created_at.isoformat(),
        "acceptance": acceptance_json(covering) if covering else None,
        "satisfied": covering is not None and covering.version_number == current.number,
    }


@api.get("/agreements")
@require("agreement.view")
def list_agreements() -> dict[str, Any]:
    """Agreements, their current version and the caller's acceptance."""
    items = [agreement_json(a) for a in agreements.list_agreements(db.session, current_caller())]
    return {"items": items, "total": len(items)}


@api.get("/agreements/<agreement_id>")
@require("agreement.view")
def get_agreement(agreement_id: str) -> dict[str, Any]:
    """One agreement with the text of its current version."""
    agreement = agreements.get_agreement(db.session, current_caller(), agreement_id)
    return {**agreement_json(agreement), "text": agreement.current.text}


@api.post("/agreements")
@large_body(AGREEMENT_BODY_MAX)
@require("agreement.manage")
def create_agreement() -> tuple[dict[str, Any], int]:
    """Create an agreement with version 1."""
    body = _body()
    agreement = agreements.create_agreement(
        db.session,
        current_caller(),
        title=_str(body, "title", ""),
        kind=_str(body, "kind", ""),
        text=_str(body, "text", ""),
    )
    return {"id": agreement.id, "current_version": 1}, 201


@api.post("/agreements/<agreement_id>/versions")
@large_body(AGREEMENT_BODY_MAX)
@require("agreement.manage")
def publish_version(agreement_id: str) -> tuple[dict[str, Any], int]:
    """Publish a new current version."""
    version = agreements.publish_version(
        db.session, current_caller(), agreement_id, _str(_body(), "text", "")
    )
    return {"current_version": version.number, "text_sha256": version.text_sha256}, 201


@api.post("/agreements/<agreement_id>/accept")
@require("agreement.accept")
def accept(agreement_id: str) -> tuple[dict[str, Any], int]:
    """Accept the current version (409 if the version named is not current)."""
    body = _body()
    acceptance = agreements_accept.accept(
        db.session,
        current_caller(),
        agreement_id,
        version=_version(body),
        typed_name=_str(body, "typed_name", ""),
        scope=_str(body, "scope", "account"),
        user_agent=request.headers.get("User-Agent"),
        shown_sha256=_shown_sha256(body),
    )
    return {
        "acceptance_id": acceptance.id,
        "text_sha256": acceptance.text_sha256,
        "version": acceptance.version_number,
    }, 201


@api.post("/agreements/<agreement_id>/terminate")
@require("agreement.terminate")
def terminate(agreement_id: str) -> dict[str, Any]:
    """Terminate the caller's (or their organisation's) acceptance, effective now."""
    body = _body()
    ended = agreements_accept.terminate(
        db.session,
        current_caller(),
        agreement_id,
        scope=_str(body, "scope", "account"),
        reason=_str(body, "reason", ""),
    )
    return {
        "terminated": [
            {"acceptance_id": t.acceptance_id, "effective_at": t.effective_at.isoformat()}
            for t in ended
        ]
    }


@api.get("/acceptances")
@require("agreement.view")
def acceptance_history() -> dict[str, Any]:
    """The caller's and their organisation's acceptances, terminated ones included."""
    rows = agreement_records.history(
        db.session, current_caller(), request.args.get("agreement_id") or None
    )
    return {"items": [acceptance_json(row) for row in rows], "total": len(rows)}


@api.get("/acceptances/<acceptance_id>/certificate")
@require("acceptance.certificate")
def certificate(acceptance_id: str) -> Response:
    """The acceptance certificate PDF (acceptor and staff)."""
    data, filename = agreement_records.certificate_pdf(db.session, current_caller(), acceptance_id)
    return file_response(data, filename=filename, content_type="application/pdf")
