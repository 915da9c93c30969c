"""One-line fields hold no control character and no text holds bidirectional overrides
(issue 16, "Input"): each refusal says which field and which character, and stores nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from artifact.extensions import db
from artifact.identity.services import accounts
from artifact.kernel.caller import OPERATOR
from artifact.kernel.errors import ValidationFailed
from artifact.kernel.text import check_text, one_line
from artifact.models import AccessRequest, Agreement, Evidence, Report, User

RLO = "\u202e"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Invoice\u202efdp.exe", "bidirectional control character (U+202E)"),
        ("two\nlines", "must be a single line: it contains a line break"),
        ("carriage\rreturn", "must be a single line: it contains a line break"),
        ("tab\there", "may not hold control characters: it contains a tab"),
        ("bell\x07", "may not hold control characters: it contains U+0007"),
        ("esc\x1b[31m", "may not hold control characters: it contains U+001B"),
        ("c1\x85", "may not hold control characters: it contains U+0085"),
        ("isolate\u2066x\u2069", "bidirectional control character (U+2066)"),
    ],
)
def test_one_line_fields_refuse_controls_and_bidi_overrides(value: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        one_line(value, "title")
    assert message in refused.value.message
    assert refused.value.message.startswith("the title ")


def test_ordinary_text_passes_and_multiline_keeps_its_lines() -> None:
    assert one_line("  ISO/IEC 27001:2022 — Zoë’s   report ", "title") == (
        "ISO/IEC 27001:2022 — Zoë’s report"
    )
    check_text("first line\r\n\tsecond line", "description", multiline=True)
    with pytest.raises(ValidationFailed):
        check_text(f"fine{RLO}", "description", multiline=True)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_report_title_with_a_line_break_or_override_is_a_400(client, staff, bearer) -> None:
    headers = bearer(staff)
    # The catalog API checks bodies against its OpenAPI schemas first, in the document's words.
    words = "title: must be one line, not blank, without control or bidirectional override"
    for title in ("SOC 2\nType II", f"SOC 2{RLO}"):
        response = client.post(
            "/api/v1/reports", json={"title": title, "category": "reports"}, headers=headers
        )
        assert response.status_code == 400
        assert words in response.get_json()["error"]["message"]
    assert _count(Report) == 0


def test_evidence_and_agreement_titles_refuse_overrides(client, staff, admin, bearer) -> None:
    upload = client.post(
        "/api/v1/evidence",
        data={
            "file": (io.BytesIO(b"log"), "a.txt"),
            "title": f"Access review{RLO}",
            "effective_date": "2025-01-01",
        },
        headers=bearer(staff),
        content_type="multipart/form-data",
    )
    assert upload.status_code == 400
    assert (
        "the title contains a bidirectional control character"
        in upload.get_json()["error"]["message"]
    )
    agreement = client.post(
        "/api/v1/agreements",
        json={"title": "NDA\nv2", "kind": "nda", "text": "Terms."},
        headers=bearer(admin),
    )
    assert agreement.status_code == 400
    assert "single line" in agreement.get_json()["error"]["message"]
    assert _count(Evidence) == 0
    assert _count(Agreement) == 0


def test_access_request_messages_keep_lines_but_not_overrides(
    client, customer, bearer, make_report
) -> None:
    report = make_report(visibility="customers")
    headers = bearer(customer)
    refused = client.post(
        "/api/v1/access-requests",
        json={"report_id": report.id, "message": f"please{RLO}"},
        headers=headers,
    )
    assert refused.status_code == 400
    assert _count(AccessRequest) == 0
    kept = client.post(
        "/api/v1/access-requests",
        json={"report_id": report.id, "message": "Hello,\nwe are auditing.\n"},
        headers=headers,
    )
    assert kept.status_code == 201, kept.get_json()
    stored = db.session.scalar(select(AccessRequest.message))
    assert stored == "Hello,\nwe are auditing."


def test_display_and_organisation_names_refuse_controls(app) -> None:
    for name, organization in ((f"Mallory{RLO}", None), ("Ann", "Acme\x1b[2J")):
        with pytest.raises(ValidationFailed):
            accounts.create_user(
                db.session,
                OPERATOR,
                email="ann@example.test",
                role="customer",
                password="a long enough passphrase 42",
                name=name,
                organization=organization,
                create_organization_if_missing=True,
            )
        db.session.rollback()
    assert _count(User) == 0
