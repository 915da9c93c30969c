"""Fixtures of audit engagements: a framework with evidence in and out of an engagement's scope,
an auditor of a firm, and an engagement created through the API by staff."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from artifact.models import Evidence, User
from tests.fixtures_catalog import make_pdf
from tests.fixtures_evidence import today

FIRM = "Ledger Auditors"


@dataclass(frozen=True)
class Scope:
    """Evidence around one engagement's scope (framework iso-sample, period ``start``..``end``):
    ``inside`` (approved PDF, A.5.15, effective in the period), ``other_framework`` (approved,
    soc-sample only), ``before_period`` (approved, iso-sample, effective before the period),
    ``draft`` (iso-sample, in the period, never approved)."""

    start: date
    end: date
    inside: Evidence
    inside_pdf: bytes
    other_framework: Evidence
    before_period: Evidence
    draft: Evidence


@pytest.fixture
def engagement_scope(evidence_frameworks: None, make_evidence: Callable[..., Evidence]) -> Scope:
    pdf = make_pdf(2, marker="ACCESS-REVIEW")
    in_period = today() - timedelta(days=10)
    return Scope(
        start=today() - timedelta(days=60),
        end=today() - timedelta(days=1),
        inside=make_evidence(
            "Quarterly access review",
            requirements=["iso-sample:A.5.15"],
            data=pdf,
            filename="access review.pdf",
            effective_date=in_period,
            state="approved",
        ),
        inside_pdf=pdf,
        other_framework=make_evidence(
            "SOC logical access listing",
            requirements=["soc-sample:CC6.1"],
            effective_date=in_period,
            state="approved",
        ),
        before_period=make_evidence(
            "Old policy review",
            requirements=["iso-sample:A.5.1"],
            effective_date=today() - timedelta(days=100),
            state="approved",
        ),
        draft=make_evidence(
            "Authentication settings (draft)",
            requirements=["iso-sample:A.8.5"],
            effective_date=in_period,
        ),
    )


@pytest.fixture
def firm_auditor(make_user: Callable[..., User]) -> User:
    return make_user("auditor", org=FIRM, name="Una Auditor")


def engagement_body(scope: Scope, auditors: list[str], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "ISO surveillance audit",
        "organization": FIRM,
        "framework": "iso-sample",
        "period_start": scope.start.isoformat(),
        "period_end": scope.end.isoformat(),
        "starts_on": today().isoformat(),
        "ends_on": (today() + timedelta(days=30)).isoformat(),
        "auditors": auditors,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def open_engagement(
    app: Flask,
    bearer: Callable[[User], dict[str, str]],
    staff: User,
    firm_auditor: User,
    engagement_scope: Scope,
) -> dict[str, Any]:
    """An open engagement on iso-sample with ``firm_auditor`` on it (created by ``staff``)."""
    created = app.test_client().post(
        "/api/v1/engagements",
        json=engagement_body(engagement_scope, [firm_auditor.email]),
        headers=bearer(staff),
    )
    assert created.status_code == 201, created.get_json()
    body: dict[str, Any] = created.get_json()
    return body
