"""Identity hardening (issue 16): password re-entry throttled, tokens revoked when the account
changes, reset mail limited per address, own sessions listed and ended, long passwords
refused by the server, a private data directory."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.models import AuditEvent, User
from tests.conftest import PASSWORD, post_form


def test_password_reentry_is_throttled_across_the_account_pages(
    app: Flask, client, login_as, customer: User
) -> None:
    login_as(customer)
    statuses = []
    for i in range(6):
        statuses.append(
            post_form(
                client,
                "/account/password",
                {"current": f"not my password {i}", "new": "plum orbit lantern quietly 42"},
                token_from="/account/",
            ).status_code
        )
    # The same budget on the second-factor page: the sixth refusal in a minute is a 429.
    statuses.append(
        post_form(
            client, "/account/mfa/start", {"password": "still not it"}, token_from="/account/mfa"
        ).status_code
    )
    assert statuses[:5] == [400] * 5
    assert statuses[5:] == [429, 429]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.throttled")
    ).first()
    assert event is not None and '"reason":"rate_limit"' in event.details
