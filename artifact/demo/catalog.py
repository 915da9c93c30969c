"""The demo catalog: create its series, render documents/catalog/*.html with WeasyPrint and
import them (idempotent: a series whose slug exists, a report whose title exists is left
alone)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from artifact.admin.services import keys
from artifact.catalog.services import grants, reports, taxonomy
from artifact.config import DOCUMENTS_FOLDER
from artifact.infra.pdf.render import render_pdf
from artifact.infra.storage import BlobStore
from artifact.kernel.caller import Caller
from artifact.models import Agreement, Report, ReportSeries
from artifact.models.base import DbSession
from artifact.models.catalog import State

CATALOG_FOLDER = DOCUMENTS_FOLDER / "catalog"
_FIELDS = (
    "title",
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
)


def load_manifest(folder: Path = CATALOG_FOLDER) -> list[dict[str, Any]]:
    return list(json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["reports"])


def seed_series(db: DbSession, caller: Caller, folder: Path = CATALOG_FOLDER) -> None:
    """The manifest's series, those that are missing."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest.get("series", []):
        if db.scalar(select(ReportSeries.id).where(ReportSeries.slug == entry["slug"])) is None:
            taxonomy.create_series(db, caller, entry)


def seed(
    db: DbSession, caller: Caller, store: BlobStore, folder: Path = CATALOG_FOLDER
) -> list[str]:
    """Import what is missing; return the titles imported now."""
    keys.ensure_keyring(db, caller, store)
    seed_series(db, caller, folder)
    imported = []
    for entry in load_manifest(folder):
        if db.scalar(select(Report.id).where(Report.title == entry["title"])) is not None:
            continue
        values = {k: entry.get(k) for k in _FIELDS}
        if entry.get("terms_agreement"):
            values["terms_agreement_id"] = db.scalar(
                select(Agreement.id).where(Agreement.title == entry["terms_agreement"])
            )
        report = reports.create_report(db, caller, values)
        pdf = render_pdf((folder / entry["source"]).read_text(encoding="utf-8"))
        reports.add_version(
            db,
            caller,
            store,
            report.id,
            pdf,
            Path(entry["source"]).with_suffix(".pdf").name,
            len(pdf),
        )
        reports.set_state(db, caller, report.id, State.PUBLISHED)
        for organization in entry.get("grant_organizations", []):
            grants.create_grant(db, caller, report_id=report.id, organization=organization)
        imported.append(report.title)
    return imported
