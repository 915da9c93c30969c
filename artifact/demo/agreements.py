"""Demo agreements: a mutual NDA and a BAA from ``documents/agreements/`` (samples we wrote)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from artifact.agreements.services import agreements
from artifact.config import DOCUMENTS_FOLDER
from artifact.kernel.caller import Caller
from artifact.models import Agreement
from artifact.models.base import DbSession

DEMO_AGREEMENTS = (
    ("Mutual NDA", "nda", "mutual-nda.txt"),
    ("Business Associate Agreement", "baa", "business-associate-agreement.txt"),
)


def seed(db: DbSession, caller: Caller, folder: Path = DOCUMENTS_FOLDER) -> list[Agreement]:
    """Create the demo agreements that are missing; publish a new version when a demo text
    changed (idempotent: an unchanged text publishes nothing)."""
    seeded = []
    for title, kind, filename in DEMO_AGREEMENTS:
        text = agreements.clean_text((folder / "agreements" / filename).read_text("utf-8"))
        agreement = db.scalar(select(Agreement).where(Agreement.title == title))
        if agreement is None:
            agreement = agreements.create_agreement(db, caller, title=title, kind=kind, text=text)
        elif agreement.current.text_sha256 != agreements.text_sha256(text):
            agreements.publish_version(db, caller, agreement.id, text)
        seeded.append(agreement)
    return seeded
