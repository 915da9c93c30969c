"""Demo evidence from ``documents/evidence`` (idempotent: an item whose title exists is left
alone): uploaded by the demo staff member, approved by the demo reviewer, one expired and one
expiring soon, linked to demo ISO/IEC 27001 and SOC 2 requirements (and so, through the demo
crosswalk, to GDPR and HIPAA)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from artifact.audit.services import chain as audit
from artifact.config import DOCUMENTS_FOLDER
from artifact.evidence import services as evidence
from artifact.identity.services.lookup import user_by_email
from artifact.infra.pdf.render import render_pdf
from artifact.infra.storage import BlobStore
from artifact.kernel.caller import Caller
from artifact.models import Evidence, EvidenceApproval, User
from artifact.models.base import DbSession, utcnow
from artifact.models.evidence import EvidenceState
from artifact.search import indexer

FOLDER = DOCUMENTS_FOLDER / "evidence"
UPLOADER, REVIEWER = "staff@artifact.test", "reviewer@artifact.test"


@dataclass(frozen=True)
class DemoItem:
    title: str
    source: str
    requirements: tuple[str, ...]
    collected_days_ago: int
    expires_in_days: int  # negative: expired that many days ago
    state: str = EvidenceState.APPROVED


DEMO_EVIDENCE = (
    DemoItem(
        "Quarterly access review (sample)",
        "access-review-q3.csv",
        ("iso27001-2022:A.5.15", "iso27001-2022:A.5.18", "soc2-tsc-2017:CC6.2"),
        40,
        50,
    ),
    DemoItem(
        "Information security policy (sample)",
        "information-security-policy.html",
        ("iso27001-2022:A.5.1",),
        120,
        245,
    ),
    DemoItem(
        "Backup restore test (sample)",
        "backup-restore-test.txt",
        ("iso27001-2022:A.8.13",),
        170,
        12,
    ),
    DemoItem(
        "Penetration test summary (sample)",
        "penetration-test-summary.txt",
        ("iso27001-2022:A.8.8",),
        400,
        -35,
    ),
    DemoItem(
        "Change tickets, October (sample)",
        "change-tickets.csv",
        ("soc2-tsc-2017:CC8.1",),
        20,
        70,
        EvidenceState.IN_REVIEW,
    ),
)


def _file(item: DemoItem) -> tuple[bytes, str]:
    path = FOLDER / item.source
    if path.suffix == ".html":
        return render_pdf(path.read_text(encoding="utf-8")), path.with_suffix(".pdf").name
    return path.read_bytes(), path.name


def seed(db: DbSession, caller: Caller, store: BlobStore) -> list[str]:
    """Upload what is missing; return the titles added now."""
    uploader, reviewer = user_by_email(db, UPLOADER), user_by_email(db, REVIEWER)
    if uploader is None or reviewer is None:
        return []
    today, added = utcnow().date(), []
    for item in DEMO_EVIDENCE:
        if db.scalar(select(Evidence.id).where(Evidence.title == item.title)) is not None:
            continue
        data, filename = _file(item)
        expires = today + timedelta(days=item.expires_in_days)
        values = {
            "title": item.title,
            "owner": UPLOADER,
            "requirements": list(item.requirements),
            "effective_date": today - timedelta(days=item.collected_days_ago),
            "expires_on": expires,
            "description": "Demo evidence written for Artifact (a sample).",
        }
        created = evidence.create_evidence(
            db, Caller.of_user(uploader), store, values, data, filename
        )
        if expires < today:
            _approved_before_it_expired(db, created, reviewer, caller)
        elif item.state != EvidenceState.DRAFT:
            evidence.submit(db, Caller.of_user(uploader), created.id)
            if item.state == EvidenceState.APPROVED:
                evidence.approve(db, Caller.of_user(reviewer), created.id, note="demo approval")
        added.append(item.title)
    return added


def _approved_before_it_expired(
    db: DbSession, item: Evidence, reviewer: User, caller: Caller
) -> None:
    """The demo's history: this evidence was approved while current and has expired since.
    (The service refuses to approve expired evidence, so the seed records the past approval
    itself, and says so in the trail.)"""
    version = item.versions[-1]
    item.state = EvidenceState.APPROVED
    db.add(
        EvidenceApproval(
            evidence_id=item.id,
            version_id=version.id,
            approved_by_id=reviewer.id,
            note="demo: approved while current",
        )
    )
    audit.record(
        db,
        caller,
        "evidence.approve",
        target_type="evidence",
        target_id=item.id,
        details={
            "from": EvidenceState.DRAFT,
            "to": EvidenceState.APPROVED,
            "version": version.number,
            "sha256": version.sha256,
            "seeded": "demo history: approved before it expired",
        },
    )
    indexer.note(db, "evidence", item.id, full=False)
