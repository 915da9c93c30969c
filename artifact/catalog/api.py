"""Reports, versions, downloads, grants and access requests in the JSON API.

Request bodies and query arguments are checked against the catalog's part of the OpenAPI
document (``catalog/openapi.py``) before a service sees them: what a generated client is told
is exactly what is accepted, unknown fields included (refused)."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from typing import Any

from flask import current_app, request
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, relevance
from werkzeug.wrappers import Response

from artifact import policy
from artifact.catalog.openapi import PATHS, PATTERN_MEANINGS, SCHEMAS
from artifact.catalog.services import (
    approval_rules,
    grants,
    history,
    holders,
    report_terms,
    reports,
    taxonomy,
)
from artifact.catalog.services.upload_guard import UploadGuard
from artifact.catalog.views.serving import serve_original, serve_report
from artifact.extensions import db
from artifact.infra.storage import store_for
from artifact.kernel.errors import ValidationFailed
from artifact.models import Report
from artifact.web.access import require, require_hidden, require_per_object
from artifact.web.files import read_upload
from artifact.web.json_api import api
from artifact.web.ratelimit import download_budget
from artifact.web.security import current_caller

# The formats the document uses, checked here without optional packages: RFC 3339 as the
# document promises (not everything Python's fromisoformat would take).
_FORMATS = FormatChecker(())
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)


@_FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(
        _DATE_RE.fullmatch(value) and date.fromisoformat(value)
    )


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME_RE.fullmatch(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


@_FORMATS.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or "@" in value


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    return Draft202012Validator(SCHEMAS[schema_name], format_checker=_FORMATS)


def _problem(error: ValidationError, where: str = "") -> str:
    """What is wrong, for the error message, in the document's words where it has them."""
    if error.validator == "oneOf" and "description" in error.schema:
        return f"name {error.schema['description']}"
    if error.validator == "minProperties":
        return "send at least one of " + ", ".join(error.schema.get("properties", {}))
    field = where or ".".join(str(part) for part in error.absolute_path)
    if error.validator == "pattern":
        message = PATTERN_MEANINGS.get(str(error.validator_value), "is not in the right form")
    elif error.validator == "anyOf":
        formats = [s["format"] for s in error.validator_value if "format" in s]
        message = f"must be a {' or a '.join(formats)}" if formats else error.message
    else:
        message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    return f"{field}: {message}" if field else message


def _checked(schema_name: str, body: Any) -> dict[str, Any]:
    found = list(_validator(schema_name).iter_errors(body))
    if found:
        raise ValidationFailed(_problem(max(found, key=relevance)))
    return dict(body)


def json_body(schema_name: str) -> dict[str, Any]:
    """The request's JSON object, valid against the named schema. Raises ValidationFailed."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object")
    return _checked(schema_name, body)


def optional_json_body(schema_name: str) -> dict[str, Any]:
    """Like ``json_body``, for an operation whose body may be left out."""
    if not request.get_data(cache=True):
        return {}
    return json_body(schema_name)


def query_args(path: str, method: str = "get") -> dict[str, str | None]:
    """The operation's query arguments, each valid against its documented schema."""
    values: dict[str, str | None] = {}
    for parameter in PATHS[path][method].get("parameters", []):
        name = parameter["name"]
        if parameter["in"] != "query":
            continue
        raw = request.args.get(name)
        if raw is not None:
            schema = parameter["schema"]
            value: Any = raw
            if schema.get("type") == "integer" and re.fullmatch(r"-?[0-9]{1,18}", raw):
                value = int(raw)
            found = list(Draft202012Validator(schema, format_checker=_FORMATS).iter_errors(value))
            if found:
                raise ValidationFailed(_problem(max(found, key=relevance), name))
        values[name] = raw
    return values


def _report_answer(report: Report) -> dict[str, Any]:
    """One report as the API shows it to the caller: its status and versions, and whether
    they must accept terms first."""
    caller = current_caller()
    return reports.report_json(
        report,
        reports.report_status(db.session, caller, report),
        with_versions=True,
        needs_terms=report_terms.needs_terms(db.session, caller, report),
        intake=_sees_intake(report),
    )


@api.get("/reports")
@require("report.list")
def list_reports() -> dict[str, Any]:
    """Listed reports the caller may see, filtered."""
    args = query_args("/reports")
    filters = {name: (value or "").strip()[:200] or None for name, value in args.items()}
    found = reports.list_reports(
        db.session,
        current_caller(),
        category=filters.get("category"),
        series=filters.get("series"),
        framework=filters.get("framework"),
        q=filters.get("q"),
        status=filters.get("status"),
        include_locked=True,
        public_listing=current_app.config["PUBLIC_LISTING"],
    )
    unmet = report_terms.unmet_terms(db.session, current_caller(), found.reports)
    items = [
        reports.report_json(
            r,
            found.statuses[r.id],
            needs_terms=r.terms_agreement_id in unmet,
            locked=r.id in found.locked,
        )
        for r in found.reports
    ]
    return {"items": items, "total": len(items)}


@api.post("/reports")
@require("report.create")
def create_report() -> tuple[dict[str, Any], int]:
    """Create a report (draft)."""
    report = reports.create_report(db.session, current_caller(), json_body("ReportInput"))
    return _report_answer(report), 201


@api.get("/reports/<report_id>")
@require("report.view")
def get_report(report_id: str) -> dict[str, Any]:
    """One report with its versions; a locked one (listed, not the caller's to open) with its
    catalog facts only: ``locked`` true, no versions."""
    caller = current_caller()
    report, locked = reports.get_report_or_locked(
        db.session, caller, report_id, public_listing=current_app.config["PUBLIC_LISTING"]
    )
    if locked:
        status = reports.report_status(db.session, caller, report)
        return reports.report_json(report, status, locked=True)
    return _report_answer(report)


@api.patch("/reports/<report_id>")
@require_per_object("report.edit")
def update_report(report_id: str) -> dict[str, Any]:
    """Change a report's details; each change is recorded in its history."""
    body = json_body("ReportPatch")
    edited = reports.update_report(db.session, current_caller(), report_id, body)
    return _report_answer(edited.report)


@api.get("/reports/<report_id>/history")
@require_per_object("report.history")
def report_history(report_id: str) -> dict[str, Any]:
    """The report's edits, state and terms changes, newest first."""
    changes = history.report_history(db.session, current_caller(), report_id)
    return {"items": [history.change_json(c) for c in changes], "total": len(changes)}


@api.get("/reports/<report_id>/access")
@require_per_object("report.access")
def report_access(report_id: str) -> dict[str, Any]:
    """Who holds access to the report, and its recent downloads."""
    caller = current_caller()
    found = holders.access_holders(db.session, caller, report_id)
    downloads = holders.recent_downloads(db.session, caller, report_id)
    return {
        **holders.holders_json(found),
        "recent_downloads": [holders.download_json(d) for d in downloads],
    }


def _sees_intake(report: Any) -> bool:
    """Staff see what the upload check found on each version."""
    return bool(policy.decide(current_caller(), "report.original", report))


@api.post("/reports/<report_id>/terms")
@require("report.set_terms")
def set_terms(report_id: str) -> dict[str, Any]:
    """Require acceptance of an agreement before downloads (``null`` for none)."""
    body = json_body("ReportTermsInput")
    report = report_terms.set_terms(
        db.session, current_caller(), report_id, body["terms_agreement_id"] or None
    )
    return _report_answer(report)


@api.post("/reports/<report_id>/versions")
@require("report.upload")
def upload_version(report_id: str) -> tuple[dict[str, Any], int]:
    """Upload the next version (multipart ``file``, optional ``release_notes``)."""
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
        release_notes=request.form.get("release_notes"),
        guard=UploadGuard.from_settings(current_app.config),
    )
    return reports.version_json(version, intake=True), 201


@api.get("/reports/<report_id>/versions/<int:number>/original")
@download_budget
@require_hidden("report.original")
def download_original(report_id: str, number: int) -> Response:
    """A version's file exactly as uploaded (staff)."""
    return serve_original(report_id, number)


@api.post("/reports/<report_id>/state")
@require("report.set_state")
def set_state(report_id: str) -> dict[str, Any]:
    """Publish, mark outdated, retire or return to draft."""
    state = json_body("ReportStateInput")["state"]
    report = reports.set_state(db.session, current_caller(), report_id, state)
    return _report_answer(report)


@api.route("/reports/<report_id>/download", methods=["GET", "HEAD"])
@download_budget
@require("report.download")
def download(report_id: str) -> Response:
    """A stamped copy of the latest (or ``?version=N``) version."""
    query_args("/reports/{report_id}/download")
    return serve_report(report_id)


@api.post("/grants")
@require("grant.create")
def create_grant() -> tuple[dict[str, Any], int]:
    """Grant a user or organisation access to a report, series or category."""
    body = json_body("GrantInput")
    grant = grants.create_grant(
        db.session,
        current_caller(),
        report_id=body.get("report_id"),
        series=body.get("series"),
        category=body.get("category"),
        user_email=body.get("user"),
        organization=body.get("organization"),
        expires_at=body.get("expires_at"),
    )
    return grants.grant_json(grant), 201


@api.get("/grants")
@require("grant.list")
def list_grants() -> dict[str, Any]:
    """Live grants, or those covering one report (``report_id``)."""
    report_id = query_args("/grants")["report_id"]
    items = grants.list_grants(db.session, current_caller(), report_id=report_id)
    return {"items": [grants.grant_json(g) for g in items], "total": len(items)}


@api.delete("/grants/<grant_id>")
@api.post("/grants/<grant_id>/revoke")
@require("grant.revoke")
def revoke_grant(grant_id: str) -> tuple[str, int]:
    """Revoke a grant: the access it gave ends at once (404 when unknown or already revoked)."""
    grants.revoke_grant(db.session, current_caller(), grant_id)
    return "", 204


@api.get("/access-requests")
@require("access_request.list_own")
def list_access_requests() -> dict[str, Any]:
    """Access requests in one state, pending unless asked otherwise (staff); ``mine=1``: the
    caller's own, in every state unless asked otherwise."""
    args = query_args("/access-requests")
    caller = current_caller()
    if args["mine"] == "1":
        items = grants.my_requests(db.session, caller, args["state"])
    else:
        items = grants.list_requests(db.session, caller, args["state"] or "pending")
    return {"items": [grants.request_json(r) for r in items], "total": len(items)}


@api.get("/approval-rules")
@require("approval_rule.manage")
def list_approval_rules() -> dict[str, Any]:
    """The auto-approval rules in force."""
    items = approval_rules.list_rules(db.session, current_caller())
    return {"items": [approval_rules.rule_json(r) for r in items], "total": len(items)}


@api.post("/approval-rules")
@require("approval_rule.manage")
def create_approval_rule() -> tuple[dict[str, Any], int]:
    """Approve at once the requests of a domain or organisation for a series or category."""
    body = json_body("ApprovalRuleInput")
    rule = approval_rules.create_rule(db.session, current_caller(), **body)
    return approval_rules.rule_json(rule), 201


@api.delete("/approval-rules/<rule_id>")
@require("approval_rule.manage")
def delete_approval_rule(rule_id: str) -> tuple[str, int]:
    """Stop a rule; what it approved stays approved."""
    approval_rules.delete_rule(db.session, current_caller(), rule_id)
    return "", 204


@api.post("/access-requests")
@require("access_request.create")
def create_access_request() -> tuple[dict[str, Any], int]:
    """Ask for access to a report, series or category."""
    body = json_body("AccessRequestInput")
    created = grants.request_access(
        db.session,
        current_caller(),
        report_id=body.get("report_id"),
        series=body.get("series"),
        category=body.get("category"),
        message=body.get("message", ""),
    )
    return grants.request_json(created), 201


@api.post("/access-requests/<request_id>/approve", defaults={"decision": "approve"})
@api.post("/access-requests/<request_id>/deny", defaults={"decision": "deny"})
@require("access_request.decide")
def decide_access_request(request_id: str, decision: str) -> dict[str, Any]:
    """Approve (optional ``expires_at``) or deny."""
    approve = decision == "approve"
    expires_at = optional_json_body("AccessDecisionInput").get("expires_at") if approve else None
    decided = grants.decide_request(db.session, current_caller(), request_id, approve, expires_at)
    return grants.request_json(decided)


@api.get("/categories")
@require("taxonomy.view")
def list_categories() -> dict[str, Any]:
    """The catalog's categories, in order."""
    found = taxonomy.list_categories(db.session, current_caller())
    return {"items": [taxonomy.taxonomy_json(c) for c in found], "total": len(found)}


@api.post("/categories")
@require("taxonomy.manage")
def create_category() -> tuple[dict[str, Any], int]:
    """A new category (staff)."""
    body = json_body("CategoryInput")
    return taxonomy.taxonomy_json(taxonomy.create_category(db.session, current_caller(), body)), 201


@api.patch("/categories/<category_id>")
@require("taxonomy.manage")
def update_category(category_id: str) -> dict[str, Any]:
    """Rename, describe or move a category (staff)."""
    body = json_body("TaxonomyPatch")
    changed = taxonomy.update_category(db.session, current_caller(), category_id, body)
    return taxonomy.taxonomy_json(changed)


@api.get("/series")
@require("taxonomy.view")
def list_series() -> dict[str, Any]:
    """The series, in order (for others than staff, those of reports listed to them)."""
    found = taxonomy.list_series(db.session, current_caller())
    return {"items": [taxonomy.taxonomy_json(s) for s in found], "total": len(found)}


@api.post("/series")
@require("taxonomy.manage")
def create_series() -> tuple[dict[str, Any], int]:
    """A new series (staff)."""
    body = json_body("SeriesInput")
    return taxonomy.taxonomy_json(taxonomy.create_series(db.session, current_caller(), body)), 201


@api.patch("/series/<series_id>")
@require("taxonomy.manage")
def update_series(series_id: str) -> dict[str, Any]:
    """Rename, describe or move a series (staff)."""
    body = json_body("TaxonomyPatch")
    return taxonomy.taxonomy_json(
        taxonomy.update_series(db.session, current_caller(), series_id, body)
    )
