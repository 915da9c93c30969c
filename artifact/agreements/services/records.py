"""Reading the acceptance records: a user's history, the staff register with its CSV export,
and the acceptance certificate."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from artifact import policy
from artifact.agreements.services.agreements import get_agreement, text_sha256
from artifact.agreements.services.certificate import render_certificate, utc
from artifact.audit.services import chain as audit
from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound
from artifact.models import Acceptance, Agreement, Report
from artifact.models.base import DbSession, is_id, utcnow

# Spreadsheet programs run cells that start with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "acceptance_id",
    "agreement",
    "version",
    "scope",
    "user_email",
    "organization",
    "typed_name",
    "accepted_at_utc",
    "ip_address",
    "user_agent",
    "text_sha256",
    "terminated_at_utc",
    "terminated_by",
    "termination_reason",
)


def history(db: DbSession, caller: Caller, agreement_id: str | None = None) -> list[Acceptance]:
    """The caller's acceptances and their organisation's, newest first, terminated ones
    included (staff see everyone's in ``register``)."""
    policy.require(caller, "agreement.view")
    stmt = policy.visible(select(Acceptance), caller, Acceptance).where(
        policy.acceptances_covering(caller)
    )
    if agreement_id is not None:
        if not is_id(agreement_id):
            return []  # names no agreement
        stmt = stmt.where(Acceptance.agreement_id == agreement_id)
    stmt = stmt.options(selectinload(Acceptance.termination), selectinload(Acceptance.agreement))
    return list(db.scalars(stmt.order_by(Acceptance.accepted_at.desc())))


def gated_reports(db: DbSession, caller: Caller, agreement_id: str) -> list[str]:
    """Titles of the reports ``caller`` can see whose downloads need ``agreement_id`` accepted:
    what a termination stops (for the confirmation step)."""
    stmt = policy.visible(select(Report), caller, Report).where(
        Report.terms_agreement_id == agreement_id
    )
    return sorted(report.title for report in db.scalars(stmt.limit(50)))


def get_acceptance(db: DbSession, caller: Caller, acceptance_id: str, action: str) -> Acceptance:
    """Raises NotFound for an acceptance that does not exist or that ``caller`` may not touch."""
    acceptance = db.get(Acceptance, acceptance_id) if is_id(acceptance_id) else None
    if acceptance is None or not policy.decide(caller, action, acceptance):
        raise NotFound("no such acceptance")
    return acceptance


def register(
    db: DbSession, caller: Caller, agreement_id: str
) -> tuple[Agreement, list[Acceptance]]:
    """Every acceptance of an agreement, by version (newest first): for staff."""
    policy.require(caller, "acceptance.list_all")
    agreement = get_agreement(db, caller, agreement_id)
    stmt = (
        select(Acceptance)
        .where(Acceptance.agreement_id == agreement.id)
        .options(
            selectinload(Acceptance.termination),
            selectinload(Acceptance.user),
            selectinload(Acceptance.organization),
        )
        .order_by(Acceptance.version_number.desc(), Acceptance.accepted_at)
    )
    return agreement, list(db.scalars(stmt))


def csv_safe(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(db: DbSession, caller: Caller, agreement_id: str) -> tuple[str, str]:
    """The register as CSV (formula-safe cells) and a file name; the export is audited."""
    agreement, rows = register(db, caller, agreement_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        ended = row.termination
        writer.writerow(
            [
                csv_safe(value)
                for value in (
                    row.id,
                    agreement.title,
                    row.version_number,
                    row.scope,
                    row.user.email,
                    row.organization.name if row.organization else "",
                    row.typed_name,
                    utc(row.accepted_at),
                    row.ip_address,
                    row.user_agent,
                    row.text_sha256,
                    utc(ended.effective_at) if ended else "",
                    ended.terminated_by.email if ended and ended.terminated_by else "",
                    ended.reason if ended else "",
                )
            ]
        )
    audit.record(
        db,
        caller,
        "acceptance.export",
        target_type="agreement",
        target_id=agreement.id,
        details={"rows": len(rows)},
    )
    slug = re.sub(r"[^a-z0-9]+", "-", agreement.title.lower()).strip("-") or "agreement"
    return out.getvalue(), f"acceptances-{slug}.csv"


def certificate_context(acceptance: Acceptance) -> dict[str, Any]:
    """What the certificate shows; the text is re-hashed so a mismatch would be printed."""
    version = acceptance.version
    return {
        "acceptance": acceptance,
        "agreement": acceptance.agreement,
        "version": version,
        "termination": acceptance.termination,
        "generated_at": utcnow(),
        "text_verified": text_sha256(version.text) == acceptance.text_sha256,
    }


def certificate_pdf(db: DbSession, caller: Caller, acceptance_id: str) -> tuple[bytes, str]:
    """The acceptance certificate PDF and its file name; the download is audited.
    Raises NotFound unless ``caller`` is the acceptor or staff."""
    acceptance = get_acceptance(db, caller, acceptance_id, "acceptance.certificate")
    data = render_certificate(certificate_context(acceptance))
    audit.record(
        db,
        caller,
        "acceptance.certificate",
        target_type="acceptance",
        target_id=acceptance.id,
        details={"agreement_id": acceptance.agreement_id, "version": acceptance.version_number},
    )
    return data, f"acceptance-{acceptance.id}.pdf"
