"""Reports: stable records with immutable versions (create, edit, upload, publish/retire,
purge) and the catalog's lists with each report's status."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.catalog.services import announce, taxonomy, upload_guard, validity
from artifact.catalog.services.integrity import VERSION_RACE, recorded_or_destroyed
from artifact.catalog.services.upload_guard import NO_GUARD, UploadGuard
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
from artifact.kernel.text import check_text
from artifact.models import Agreement, Report, ReportVersion
from artifact.models.base import DbSession, is_id, utcnow
from artifact.models.catalog import Listing, State, Visibility
from artifact.search import indexer

TEXT_LIMITS = {"title": 200, "series": 80, "issuer": 200, "product": 200, "description": 10000}
RELEASE_NOTES_LIMIT = 2000
# What staff may change of a report (PATCH, the edit form); state, terms and versions have
# their own operations.
EDITABLE = (
    "title",
    "description",
    "category",
    "series",
    "issuer",
    "product",
    "frameworks",
    "period_start",
    "period_end",
    "issued_on",
    "valid_until",
    "visibility",
    "listing",
    "bridges_report_id",
)


def get_report_or_locked(
    db: DbSession, caller: Caller, report_id: str, *, public_listing: bool = False
) -> tuple[Report, bool]:
    """The report and whether it is locked for ``caller`` (listed, but theirs to ask for, not
    to open: only its catalog facts are shown). Raises NotFound for anything else."""
    report = db.get(Report, report_id) if is_id(report_id) else None
    if report is None:
        raise NotFound("no such report")
    if policy.decide(caller, "report.view", report):
        return report, False
    if policy.is_locked(report, caller, public_listing=public_listing):
        return report, True
    raise NotFound("no such report")


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


@dataclass(frozen=True)
class Found:
    """Reports found for a caller, in catalog order, with each one's status."""

    reports: list[Report]
    statuses: dict[str, validity.Status]
    # Ids of the reports among ``reports`` shown locked (asked for with include_locked).
    locked: frozenset[str] = frozenset()


def list_reports(
    db: DbSession,
    caller: Caller,
    *,
    category: str | None = None,
    series: str | None = None,
    framework: str | None = None,
    q: str | None = None,
    status: str | None = None,
    today: date | None = None,
    include_locked: bool = False,
    public_listing: bool = False,
) -> Found:
    """Listed reports the caller may see only, filtered in SQL before anything is counted (a
    hidden report is left out for all but staff); ``framework`` matches the names people type
    ("ISO 27001", "27001", "iso27001", "SOC 2"); ``status`` one of ``validity.Status``."""
    today = today or utcnow().date()
    if any("\x00" in value for value in (category, series, framework, q, status) if value):
        # No report's text holds NUL (create_report refuses it), and PostgreSQL refuses it
        # in a query.
        return Found([], {})
    # The policy's answer for the caller's scope (kept per policy generation), not its filter
    # built and run again on every page.
    listed_ids = policy.listed_report_ids(db, caller)
    stmt = select(Report).where(Report.id.in_(listed_ids))
    locked_ids: frozenset[str] = frozenset()
    if include_locked:
        locked_ids = policy.locked_report_ids(db, caller, public_listing=public_listing)
        if locked_ids:
            stmt = select(Report).where(or_(Report.id.in_(listed_ids), Report.id.in_(locked_ids)))
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
        reports = [r for r in reports if covers_framework(r, framework)]
    statuses = report_statuses(db, caller, reports, today)
    if status:
        reports = [r for r in reports if statuses[r.id] == status]
    return Found(reports, {r.id: statuses[r.id] for r in reports}, locked_ids)


# Tokens that do not tell frameworks apart ("ISO/IEC 27001" is "ISO 27001", "v4.0" is "4.0").
_IGNORED_TOKENS = frozenset({"iec", "v", "version", "the"})


def framework_tokens(name: str) -> list[str]:
    """'ISO/IEC 27001:2022' -> ['iso', '27001', '2022']; 'iso27001' -> ['iso', '27001']:
    letters and digits apart, case and punctuation ignored."""
    return [t for t in re.findall(r"[a-z]+|\d+", name.casefold()) if t not in _IGNORED_TOKENS]


def covers_framework(report: Report, wanted: str) -> bool:
    """Does one of the report's frameworks contain the typed name, token for token ("27001"
    and "ISO 27001" find "ISO/IEC 27001:2022", not "ISO/IEC 27017:2015")?"""
    needle = framework_tokens(wanted)
    if not needle:
        return False
    for name in report.frameworks or []:
        tokens = framework_tokens(name)
        if any(tokens[i : i + len(needle)] == needle for i in range(len(tokens) - len(needle) + 1)):
            return True
    return False


_DATED = (
    Report.id,
    Report.category,
    Report.series,
    Report.state,
    Report.period_end,
    Report.issued_on,
    Report.valid_until,
    Report.bridges_report_id,
)


def report_statuses(
    db: DbSession, caller: Caller, reports: Iterable[Report], today: date
) -> dict[str, validity.Status]:
    """Each report's status (``validity.status``), superseded only by a report of its series
    the caller may see (what they may not see does not exist for them): one query."""
    reports = list(reports)
    series = {r.series.lower() for r in reports if r.series}
    peers: list[Any] = []
    if series:
        peers = [p for p in _published_peers(db, caller) if (p.series or "").lower() in series]
    return {r.id: validity.status(r, peers, today) for r in reports}


def _published_peers(db: DbSession, caller: Caller) -> list[Any]:
    """The dates of every published report of a series the caller may see: what decides
    whether a report is superseded for them (kept per policy generation and scope: report
    rows and grants bump it)."""

    def ask() -> list[Any]:
        stmt: Select[Any] = select(*_DATED).where(  # type: ignore[assignment]
            Report.series.is_not(None), Report.series != "", Report.state == State.PUBLISHED
        )
        return list(db.execute(policy.visible(stmt, caller, Report)).all())

    return policy.remember_for(db, "published_peers", caller, ask)


def report_status(db: DbSession, caller: Caller, report: Report) -> validity.Status:
    return report_statuses(db, caller, [report], utcnow().date())[report.id]


def bridge_letters(db: DbSession, caller: Caller, report: Report) -> list[Report]:
    """The bridge letters extending ``report`` that the caller may see, newest first."""
    if report.id not in _bridged_ids(db):
        return []
    stmt = policy.visible(select(Report), caller, Report).where(
        Report.bridges_report_id == report.id
    )
    return list(db.scalars(stmt.order_by(Report.created_at.desc())))


def _bridged_ids(db: DbSession) -> frozenset[str]:
    """The reports any bridge letter names (visible or not), kept per policy generation (a
    report's bridge is a column of its row): most reports have none, and their page then
    builds no visibility query for them."""

    def ask() -> frozenset[str]:
        stmt = select(Report.bridges_report_id).where(Report.bridges_report_id.is_not(None))
        return frozenset(str(i) for i in db.scalars(stmt.distinct()))

    return policy.remember(db, ("bridged_report_ids",), ask)


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
    raw = str(values.get(name) or "")
    check_text(raw, name, multiline=name == "description")
    value = " ".join(raw.split()) if name != "description" else raw.strip()
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
    allowed: type[Visibility] | type[State] | type[Listing],
    default: str | None = None,
) -> str:
    value = value or default
    if value not in {v.value for v in allowed}:
        raise ValidationFailed(f"the {name} must be one of {', '.join(v.value for v in allowed)}")
    return str(value)


def _bridged(db: DbSession, value: Any, report_id: str | None = None) -> str | None:
    """The report a bridge letter extends ("" or None for none). Raises ValidationFailed."""
    if value in (None, ""):
        return None
    bridged = db.get(Report, value) if is_id(value) else None
    if bridged is None:
        raise ValidationFailed("bridges_report_id names no report")
    if bridged.id == report_id or bridged.bridges_report_id is not None:
        raise ValidationFailed("a bridge letter extends a report, not itself or another letter")
    return bridged.id


def _checked_dates(values: dict[str, date | None]) -> None:
    start, end = values.get("period_start"), values.get("period_end")
    if start and end and end < start:
        raise ValidationFailed("the period ends before it starts")
    issued, until = values.get("issued_on"), values.get("valid_until")
    if issued and until and until < issued:
        raise ValidationFailed("the report is valid until a day before it was issued")


def _field(db: DbSession, name: str, value: Any, report_id: str | None = None) -> Any:
    """One editable field's value, validated and normalised. Raises ValidationFailed."""
    if name in ("title", "description", "issuer", "product"):
        return _text({name: value}, name, required=name == "title")
    if name == "category":
        return taxonomy.category_slug(db, value)
    if name == "series":
        return taxonomy.series_slug(db, value)
    if name == "frameworks":
        return _frameworks(value)
    if name in ("period_start", "period_end", "issued_on", "valid_until"):
        return _date(value, name.replace("_", " "))
    if name == "visibility":
        return _choice(value, "visibility", Visibility)
    if name == "listing":
        return _choice(value, "listing", Listing)
    if name == "bridges_report_id":
        return _bridged(db, value, report_id)
    raise ValidationFailed(f"{name} cannot be edited")


def create_report(db: DbSession, caller: Caller, values: dict[str, Any]) -> Report:
    """A new report, draft and (unless said otherwise) restricted and listed. Raises
    ValidationFailed (an unknown category or series among them), Conflict (the agreement)."""
    policy.require(caller, "report.create")
    fields = {
        name: _field(db, name, values.get(name))
        for name in EDITABLE
        if name not in ("visibility", "listing")
    }
    _checked_dates(fields)
    report = Report(
        **fields,
        visibility=_choice(
            values.get("visibility"), "visibility", Visibility, Visibility.RESTRICTED
        ),
        listing=_choice(values.get("listing"), "listing", Listing, Listing.LISTED),
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


def _plain(value: Any) -> Any:
    """A field's value as JSON (the audit trail, the history)."""
    if isinstance(value, date):
        return value.isoformat()
    return list(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Edited:
    report: Report
    fields: dict[str, dict[str, Any]]  # each field changed: {"from": ..., "to": ...}


def update_report(db: DbSession, caller: Caller, report_id: str, values: dict[str, Any]) -> Edited:
    """Change some of a report's details (``EDITABLE``); one audit event names each field
    changed, from and to (no event when nothing changed). Versions stay as they are. Raises
    NotFound, PermissionDenied, ValidationFailed (no field, an unknown field, a bad value)."""
    report = get_report(db, caller, report_id, "report.edit")
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(
            f"unknown field(s): {', '.join(unknown)[:200]}; editable: {', '.join(EDITABLE)}"
        )
    if not values:
        raise ValidationFailed(f"send at least one field to change: {', '.join(EDITABLE)}")
    wanted = {name: _field(db, name, value, report.id) for name, value in values.items()}
    dates = ("period_start", "period_end", "issued_on", "valid_until")
    _checked_dates({name: wanted.get(name, getattr(report, name)) for name in dates})
    changed = {
        name: {"from": _plain(getattr(report, name)), "to": _plain(value)}
        for name, value in wanted.items()
        if getattr(report, name) != value
    }
    if not changed:
        return Edited(report, {})
    for name in changed:
        setattr(report, name, wanted[name])
    audit.record(
        db,
        caller,
        "report.edit",
        target_type="report",
        target_id=report.id,
        details={"fields": changed},
    )
    indexer.note(db, "report", report.id, full=False)
    return Edited(report, changed)


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
    announce.state_changed(db, report, before)
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
    guard: UploadGuard = NO_GUARD,
) -> ReportVersion:
    """Store an uploaded PDF, exactly as it came, as the next version, with what qpdf had to
    repair and what copies handed out will not carry, once ``guard`` scanned it and within its
    quotas. Raises NotFound, TooLarge (QuotaExceeded too), ValidationFailed (release notes),
    UnsupportedType, InvalidFile (malware too), Unavailable (no scanner), Conflict (a version
    race lost at the flush); once the owner rolls a failure back, neither a blob nor a row is
    left."""
    report = get_report(db, caller, report_id, "report.upload")
    if len(data) > max_bytes:
        raise TooLarge(f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MB")
    notes = _release_notes(release_notes)
    upload_guard.screen(db, caller, guard, data, target_type="report", target_id=report.id)
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
        upload_guard.enforce_quota(db, caller, guard, blob.size)
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
    announce.version_added(db, report, version)
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
    status: validity.Status,
    *,
    with_versions: bool = False,
    needs_terms: bool = False,
    intake: bool = False,
    locked: bool = False,
) -> dict[str, Any]:
    """The report's JSON; ``intake`` (for staff) adds what the upload check found to each
    version."""
    until = validity.valid_until(report)
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
        "issued_on": report.issued_on.isoformat() if report.issued_on else None,
        "valid_until": until.isoformat() if until else None,
        "status": str(status),
        "description": report.description,
        "state": report.state,
        "visibility": report.visibility,
        "listing": report.listing,
        "bridges_report_id": report.bridges_report_id,
        "terms_agreement_id": report.terms_agreement_id,
        "needs_terms": needs_terms,
        "locked": locked,
    }
    if with_versions and not locked:
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
