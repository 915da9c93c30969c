"""Demo agreements: a mutual NDA and a BAA from ``documents/agreements/`` (samples we wrote)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from artifact.agreements.services import agreements
from artifact.audit.services.chain import Actor
from artifact.config import DOCUMENTS_FOLDER
from artifact.models import Agreement
from artifact.models.base import DbSession

DEMO_AGREEMENTS = (
    ("Mutual NDA", "nda", "mutual-nda.txt"),
    ("Business Associate Agreement", "baa", "business-associate-agreement.txt"),
)


def seed(db: DbSession, by: Any, actor: Actor, folder: Path = DOCUMENTS_FOLDER) -> list[Agreement]:
    """Create the demo agreements that are missing; publish a new version when a demo text
    changed (idempotent: an unchanged text publishes nothing)."""
    seeded = []
    for title, kind, filename in DEMO_AGREEMENTS:
        text = agreements.clean_text((folder / "agreements" / filename).read_text("utf-8"))
        agreement = db.scalar(select(Agreement).where(Agreement.title == title))
        if agreement is None:
            agreement = agreements.create_agreement(db, by, actor, title=title, kind=kind,
                                                    text=text)
        elif agreement.current.text_sha256 != agreements.text_sha256(text):
            agreements.publish_version(db, by, actor, agreement.id, text)
        seeded.append(agreement)
    return seeded
