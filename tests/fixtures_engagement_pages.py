"""Fixtures of the engagement pages' tests: an open engagement on iso-sample with evidence in
and out of its scope, its auditor and two staff members."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from artifact.engagements.services import records
from artifact.engagements.services import requests as engagement_requests
from artifact.extensions import db
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.models import Engagement, EngagementRequest, Evidence, User
from tests.fixtures_catalog import make_pdf
from tests.fixtures_evidence import today


@dataclass
class Audit:
    engagement: Engagement
    auditor: User
    staff: User
    in_scope: Evidence  # approved PDF, linked to iso-sample:A.5.15, collected in the period
    in_scope_text: Evidence  # approved text file, iso-sample:A.8.5
    outside_period: Evidence
    other_framework: Evidence
    draft: Evidence


@pytest.fixture
def audit(
    evidence_frameworks: None,
    make_evidence: Callable[..., Evidence],
    auditor: User,
    staff: User,
) -> Audit:
    day = today()
    in_scope = make_evidence(
        "Access review Q1",
        requirements=["iso-sample:A.5.15"],
        data=make_pdf(marker="ACCESS-REVIEW"),
        filename="access review.pdf",
        effective_date=day - timedelta(days=20),
        state="approved",
    )
    in_scope_text = make_evidence(
        "MFA settings export",
        requirements=["iso-sample:A.8.5"],
        data=b"mfa: required for all staff\n",
        filename="mfa.txt",
        effective_date=day - timedelta(days=15),
        state="approved",
    )
    outside_period = make_evidence(
        "Access review 2019",
        requirements=["iso-sample:A.5.15"],
        effective_date=day - timedelta(days=400),
        state="approved",
    )
    other_framework = make_evidence(
        "SOC logical access",
        requirements=["soc-sample:CC6.1"],
        effective_date=day - timedelta(days=20),
        state="approved",
    )
    draft = make_evidence(
        "Draft policy", requirements=["iso-sample:A.5.1"], effective_date=day - timedelta(days=5)
    )
    engagement = records.create_engagement(
        db.session,
        Caller.of_user(staff),
        {
            "name": "ISO sample audit",
            "organization": "Ledger Auditors",
            "framework": "iso-sample",
            "period_start": (day - timedelta(days=90)).isoformat(),
            "period_end": day.isoformat(),
            "starts_on": (day - timedelta(days=1)).isoformat(),
            "ends_on": (day + timedelta(days=30)).isoformat(),
            "auditors": [auditor.email],
        },
    )
    uow.commit(db.session)
    return Audit(
        engagement, auditor, staff, in_scope, in_scope_text, outside_period, other_framework, draft
    )


@pytest.fixture
def add_request(audit: Audit) -> Callable[..., EngagementRequest]:
    """A request added by the auditor through the service."""

    def add(title: str = "Access reviews", **values: Any) -> EngagementRequest:
        made = engagement_requests.create_request(
            db.session,
            Caller.of_user(audit.auditor),
            audit.engagement.id,
            {"title": title, **values},
        )
        uow.commit(db.session)
        return made

    return add
