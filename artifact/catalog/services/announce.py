"""The catalog's domain events, written to the outbox in the caller's transaction (ids, titles
and states only; never a document's text)."""

from __future__ import annotations

from typing import Any

from artifact.models import AccessRequest, Report, ReportVersion
from artifact.models.base import DbSession
from artifact.models.catalog import State
from artifact.notifications import events

_SHOWN = (State.PUBLISHED, State.OUTDATED)


def _report(report: Report) -> dict[str, Any]:
    return {
        "report_id": report.id,
        "title": report.title,
        "series": report.series or None,
        "category": report.category,
        "visibility": report.visibility,
        "state": report.state,
    }


def state_changed(db: DbSession, report: Report, before: str) -> None:
    """A report becomes published (it was a draft or retired): ``report.published``."""
    if report.state == State.PUBLISHED and before not in _SHOWN:
        current = report.current_version()
        events.emit(
            db,
            "report.published",
            {**_report(report), "version": current.number if current else None},
        )


def version_added(db: DbSession, report: Report, version: ReportVersion) -> None:
    """A version of a report already shown to readers: ``report.version_added`` (a draft's
    versions are announced when it is published)."""
    if report.state in _SHOWN:
        events.emit(db, "report.version_added", {**_report(report), "version": version.number})


def _request(request: AccessRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "request_id": request.id,  # the name webhooks receivers see
        "user_id": request.user_id,
        "report_id": request.report_id,
        "series": request.series or None,
        "category": request.category or None,
        "state": request.state,
    }


def access_request_created(db: DbSession, request: AccessRequest) -> None:
    events.emit(db, "access_request.created", _request(request))


def access_request_decided(db: DbSession, request: AccessRequest) -> None:
    events.emit(
        db,
        "access_request.decided",
        {**_request(request), "expires_at": request.expires_at, "grant_id": request.grant_id},
    )
