"""Reports: stable records with immutable versions (create, upload, publish/retire, purge)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.catalog.services.integrity import VERSION_RACE, recorded_or_destroyed
from artifact.infra.pdf.inspect import inspect_pdf
from artifact.infra.storage import BlobStore
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    TooLarge,
    ValidationFailed,
)
from artifact.kernel.filenames import clean_filename
from artifact.models import Agreement, Report, ReportVersion
from artifact.models.base import DbSession, is_id, utcnow
from artifact.models.catalog import Category, State, Visibility
from artifact.search import indexer

TEXT_LIMITS = {"title": 200, "series": 80, "issuer": 200, "product": 200, "description": 10000}
RELEASE_NOTES_LIMIT = 2000


def get_report(
    db: DbSession, caller: Caller, report_id: str, action: str = "report.view"
) -> Report:
    """The report if ``caller`` may do ``action`` to it. Raises NotFound (also when not visible)."""
    report = db.get(Report, report_id) if is_id(report_id) else None
    if report is None:
        raise NotFound("no such report")
    policy.require(caller, "report.view", report)
    if action != "report.view" and not policy.decide(caller, action, report):
        raise PermissionDenied("you are not allowed to do this to this report")
    return report


def list_reports(
    db: DbSession,
    caller: Caller,
    *,
    category: str | None = None,
    series: str | None = None,
    framework: str | None = None,
    q: str | None = None,
) -> list[Report]:
    """Visible reports only, filtered in SQL before anything is counted."""
    if any("\x00" in value for value in (category, series, framework, q) if value):
        # No report's text holds NUL (create_report refuses it), and PostgreSQL refuses it
        # in a query.
        return []
    stmt = policy.visible(select(Report), caller, Report)
    if category:
        stmt = stmt.where(Report.category == category)
    if series:
        stmt = stmt.where(func.lower(Report.series) == series.strip().lower())
    if q and q.strip():
        pattern = (
            "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            or_(
                Report.title.ilike(pattern, escape="\\"),
                Report.description.ilike(pattern, escape="\\"),
                Report.issuer.ilike(pattern, escape="\\"),
            )
        )
    reports = list(db.scalars(stmt.order_by(Report.category, Report.series, Report.title)))
    if framework:
        wanted = framework.strip().lower()
        reports = [r for r in reports if wanted in (f.lower() for f in r.frameworks or [])]
    return reports


def agreement_for(db: DbSession, agreement_id: Any) -> Agreement | None:
    """The agreement a report's downloads need, from a form or API value ("" or None for
    none). Raises Conflict: well formed, but naming no agreement that is published now."""
    if agreement_id in (None, ""):
        return None
    agreement = db.get(Agreement, agreement_id) if is_id(agreement_id) else None
    if agreement is None or not agreement.versions:
        raise Conflict("terms_agreement_id names no published agreement")
    return agreement


def _text(values: dict[str, Any], name: str, required: bool = False) -> str:
    value = (
        " ".join(str(values.get(name) or "").split())
        if name != "description"
        else str(values.get(name) or "").strip()
    )
    if required and not value:
        raise ValidationFailed(f"the {name} is required")
    if len(value) > TEXT_LIMITS[name] or "\x00" in value:
        raise ValidationFailed(f"the {name} is too long (at most {TEXT_LIMITS[name]} characters)")
    return value


def _date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(f"the {name} must be a date like 2025-12-31") from None


def _frameworks(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValidationFailed("frameworks must be a list of names")
    cleaned = [" ".join(i.split()) for i in items if i.strip()]
    if len(cleaned) > 50 or any(len(i) > 80 or "\x00" in i for i in cleaned):
        raise ValidationFailed("too many, too long or garbled framework names")
    return cleaned


def _choice(
    value: Any,
    name: str,
    allowed: type[Category] | type[Visibility] | type[State],
    default: str | None = None,
) -> str:
    value = value or default
    if value not in {v.value for v in allowed}:
        raise ValidationFailed(f"the {name} must be one of {', '.join(v.value for v in allowed)}")
    return str(value)


def create_report(db: DbSession, caller: Caller, values: dict[str, Any]) -> Report:
    """A new report, draft and (unless said otherwise) restricted. Raises ValidationFailed."""
    policy.require(caller, "report.create")
    start, end = (
        _date(values.get("period_start"), "period start"),
        _date(values.get("period_end"), "period end"),
    )
    if start and end and end < start:
        raise ValidationFailed("the period ends before it starts")
    report = Report(
        title=_text(values, "title", required=True),
        category=_choice(values.get("category"), "category", Category),
        series=_text(values, "series"),
        issuer=_text(values, "issuer"),
        product=_text(values, "product"),
        description=_text(values, "description"),
        frameworks=_frameworks(values.get("frameworks")),
        period_start=start,
        period_end=end,
        visibility=_choice(
            values.get("visibility"), "visibility", Visibility, Visibility.RESTRICTED
        ),
        state=State.DRAFT,
        created_by_id=caller.user_id,
    )
    terms = agreement_for(db, values.get("terms_agreement_id"))
    report.terms_agreement_id = terms.id if terms else None
    db.add(report)
    db.flush()
    audit.record(
        db,
        caller,
        "report.create",
        target_type="report",
        target_id=report.id,
        details={
            "title": report.title,
            "visibility": report.visibility,
            "terms_agreement_id": report.terms_agreement_id,
        },
    )
    indexer.note(db, "report", report.id)
    return report


def set_state(db: DbSession, caller: Caller, report_id: str, state: str) -> Report:
    """Publish, mark outdated, retire or return to draft. Raises NotFound, ValidationFailed,
    Conflict (publishing a report that has no version yet)."""
    report = get_report(db, caller, report_id, "report.set_state")
    state = _choice(state, "state", State)
    if state in (State.PUBLISHED, State.OUTDATED) and report.current_version() is None:
        raise Conflict("upload a version before publishing")
    before = report.state
    report.state = state
    audit.record(
        db,
        caller,
        "report.state",
        target_type="report",
        target_id=report.id,
        details={"from": before, "to": state},
    )
    indexer.note(db, "report", report.id, full=False)
    return report


def add_version(
    db: DbSession,
    caller: Caller,
    store: BlobStore,
    report_id: str,
    data: bytes,
    filename: str | None,
    max_bytes: int,
    release_notes: str | None = None,
) -> ReportVersion:
    """Store an uploaded PDF, exactly as it came, as the next version, with what qpdf had to
    repair and what copies handed out will not carry. Raises NotFound, TooLarge,
    ValidationFailed (release notes), UnsupportedType, InvalidFile, Conflict (a version race
    lost at the flush); once the owner rolls a failure back, neither a blob nor a row is left."""
    report = get_report(db, caller, report_id, "report.upload")
    if len(data) > max_bytes:
        raise TooLarge(f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MB")
    notes = _release_notes(release_notes)
    facts = inspect_pdf(data)
    blob = store.put(io.BytesIO(data))
    with recorded_or_destroyed(db, store, blob.id, conflict=VERSION_RACE):
        number = (
            db.scalar(
                select(func.max(ReportVersion.number)).where(ReportVersion.report_id == report.id)
            )
            or 0
        ) + 1
        version = ReportVersion(
            report_id=report.id,
            number=number,
            blob_id=blob.id,
            filename=clean_filename(filename, f"report-v{number}.pdf"),
            content_type="application/pdf",
            size=blob.size,
            sha256=blob.sha256,
            page_count=facts.page_count,
            created_by_id=caller.user_id,
            release_notes=notes,
            pdf_warnings=list(facts.warnings),
            removed_content=list(facts.removed),
        )
        db.add(version)
        db.flush()
        audit.record(
            db,
            caller,
            "report.version.upload",
            target_type="report",
            target_id=report.id,
            details={
                "number": number,
                "sha256": blob.sha256,
                "size": blob.size,
                "filename": version.filename,
                "kek_version": blob.kek_version,
                "pdf_warnings": len(facts.warnings),
                "removed_content": list(facts.removed),
            },
        )
    indexer.note(db, "report", report.id)
    return version


def _release_notes(value: str | None) -> str:
    notes = "\n".join(line.rstrip() for line in (value or "").strip().splitlines())
    if len(notes) > RELEASE_NOTES_LIMIT or "\x00" in notes:
        raise ValidationFailed(
            f"the release notes are too long (at most {RELEASE_NOTES_LIMIT} characters)"
        )
    return notes


def purge_version(
    db: DbSession, caller: Caller, store: BlobStore, report_id: str, number: int
) -> ReportVersion:
    """Destroy a version's data key (the file becomes unrecoverable) once the purge is
    committed; the record stays."""
    report = get_report(db, caller, report_id, "report.purge_version")
    version = next((v for v in report.versions if v.number == number), None)
    if version is None or version.purged_at is not None:
        raise NotFound("no such version")
    version.purged_at = utcnow()
    audit.record(
        db,
        caller,
        "report.version.purge",
        target_type="report",
        target_id=report.id,
        details={"number": number, "sha256": version.sha256},
    )
    indexer.note(db, "report", report.id)
    blob_id = version.blob_id
    uow.after_commit(db, lambda: store.destroy(blob_id))
    return version


def find_version(report: Report, number: int | None) -> ReportVersion:
    """The latest live version, or version ``number``. Raises NotFound."""
    if number is None:
        version = report.current_version()
    else:
        version = next(
            (v for v in report.versions if v.number == number and v.purged_at is None), None
        )
    if version is None:
        raise NotFound("no such version")
    return version


def report_json(
    report: Report,
    today: date,
    *,
    with_versions: bool = False,
    needs_terms: bool = False,
    intake: bool = False,
) -> dict[str, Any]:
    """The report's JSON; ``intake`` (for staff) adds what the upload check found to each
    version."""
    body: dict[str, Any] = {
        "id": report.id,
        "title": report.title,
        "category": report.category,
        "series": report.series,
        "issuer": report.issuer,
        "product": report.product,
        "frameworks": list(report.frameworks or []),
        "period_start": report.period_start.isoformat() if report.period_start else None,
        "period_end": report.period_end.isoformat() if report.period_end else None,
        "description": report.description,
        "state": report.display_state(today),
        "visibility": report.visibility,
        "terms_agreement_id": report.terms_agreement_id,
        "needs_terms": needs_terms,
    }
    if with_versions:
        body["versions"] = [
            version_json(v, intake=intake) for v in report.versions if v.purged_at is None
        ]
    return body


def version_json(version: ReportVersion, *, intake: bool = False) -> dict[str, Any]:
    """A version's JSON; ``intake`` (for staff): the warnings qpdf gave reading the upload and
    the active content copies handed out do not carry (null: not recorded at its upload)."""
    body: dict[str, Any] = {
        "number": version.number,
        "sha256": version.sha256,
        "size": version.size,
        "created_at": version.created_at.isoformat(),
        "filename": version.filename,
        "pages": version.page_count,
        "release_notes": version.release_notes,
    }
    if intake:
        body["pdf_warnings"] = version.pdf_warnings
        body["removed_content"] = version.removed_content
    return body
