"""TOTP second factor: enrolment after the password, encrypted secret, single-use codes, the
staff/admin gate, recovery codes, admin reset; API tokens are not asked for a second factor."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from artifact.extensions import db
from artifact.infra import secretbox
from artifact.infra.storage import store_for
from artifact.models import AuditEvent, MfaCredential, RecoveryCode, SignInThrottle, User
from tests.conftest import MFA_SECRETS, PASSWORD, RECOVERY_CODES, post_form, sign_in
from tests.conftest import second_factor_code as sign_in_code


def _enrol_through_pages(client) -> tuple[str, list[str]]:
    page = post_form(
        client, "/account/mfa/start", {"password": PASSWORD}, token_from="/account/mfa"
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html
    assert "<script" not in html
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html).group(1)
    done = post_form(
        client,
        "/account/mfa/confirm",
        {"code": pyotp.TOTP(secret).now()},
        token_from="/account/mfa",
    )
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    return secret, codes


def test_staff_without_totp_cannot_open_staff_pages(app: Flask, client, make_user) -> None:
    staff = make_user("admin", mfa=False)
    response = sign_in(client, staff.email)
    assert response.status_code == 302
    for path in ("/admin/", f"/admin/users/{staff.id}", "/", "/account/"):
        blocked = client.get(path)
        assert blocked.status_code == 302, path
        assert blocked.headers["Location"] == "/account/mfa"
    api = client.get("/api/v1/me")
    assert api.status_code == 403
    assert api.get_json()["error"]["code"] == "mfa_required"
    assert client.get("/account/mfa").status_code == 200
    _enrol_through_pages(client)
    assert client.get("/admin/").status_code == 200


def test_enrolment_needs_the_password_and_stores_the_secret_sealed(
    app: Flask, client, customer: User
) -> None:
    sign_in(client, customer.email)
    wrong = post_form(
        client,
        "/account/mfa/start",
        {"password": "not my password at all"},
        token_from="/account/mfa",
    )
    assert wrong.status_code == 403
    secret, codes = _enrol_through_pages(client)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    cred = db.session.scalars(select(MfaCredential)).one()
    assert secret not in (cred.secret_ciphertext or "")
    assert (
        secretbox.open_sealed(
            store_for(app).keyring, "mfa-totp", customer.id, cred.secret_ciphertext
        )
        == secret
    )
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert not set(codes) & set(stored)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "mfa.enrolment_started" in actions
    assert "mfa.enable" in actions
    assert secret not in str(db.session.scalars(select(AuditEvent.details)).all())


def test_a_sealed_secret_does_not_open_for_another_user(app: Flask) -> None:
    keyring = store_for(app).keyring
    sealed = secretbox.seal(keyring, "mfa-totp", "user-a", "JBSWY3DPEHPK3PXP")
    with pytest.raises(ValueError, match="does not open"):
        secretbox.open_sealed(keyring, "mfa-totp", "user-b", sealed)
    with pytest.raises(ValueError, match="does not open"):
        secretbox.open_sealed(keyring, "other-purpose", "user-a", sealed)
    with pytest.raises(ValueError, match="does not open"):
        secretbox.open_sealed(keyring, "mfa-totp", "user-a", sealed[:-4] + "AAAA")


def test_sealed_secrets_survive_key_rotation(app: Flask) -> None:
    keyring = store_for(app).keyring
    old = secretbox.seal(keyring, "mfa-totp", "user-a", "JBSWY3DPEHPK3PXP")
    keyring.rotate()
    new = secretbox.seal(keyring, "mfa-totp", "user-a", "JBSWY3DPEHPK3PXP")
    assert old.split(":")[1] == "1"
    assert new.split(":")[1] == "2"
    for sealed in (old, new):
        assert secretbox.open_sealed(keyring, "mfa-totp", "user-a", sealed) == "JBSWY3DPEHPK3PXP"


def _password_step(client, user: User):
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/mfa"
    return response


def test_sign_in_asks_for_the_second_factor(app: Flask, client, staff: User) -> None:
    _password_step(client, staff)
    assert client.get("/api/v1/me").status_code == 401  # not signed in yet
    code = pyotp.TOTP(MFA_SECRETS[staff.email]).at(time.time() + 30)
    done = post_form(client, "/login/mfa", {"code": code}, token_from="/login/mfa")
    assert done.status_code == 302
    assert client.get("/api/v1/me").get_json()["email"] == staff.email


def test_a_replayed_totp_code_is_refused(app: Flask, staff: User) -> None:
    code = pyotp.TOTP(MFA_SECRETS[staff.email]).at(time.time() + 30)
    first = app.test_client()
    _password_step(first, staff)
    assert (
        post_form(first, "/login/mfa", {"code": code}, token_from="/login/mfa").status_code == 302
    )
    second = app.test_client()
    _password_step(second, staff)
    replay = post_form(second, "/login/mfa", {"code": code}, token_from="/login/mfa")
    assert replay.status_code == 401
    assert "not valid (or was already used)" in replay.get_data(as_text=True)
    assert second.get("/api/v1/me").status_code == 401
    outcomes = db.session.scalars(
        select(AuditEvent.outcome).where(AuditEvent.action == "auth.mfa")
    ).all()
    assert outcomes == ["success", "failure"]


def test_a_recovery_code_works_once(app: Flask, staff: User) -> None:
    code = RECOVERY_CODES[staff.email][0]
    first = app.test_client()
    _password_step(first, staff)
    assert (
        post_form(first, "/login/mfa", {"code": code.upper()}, token_from="/login/mfa").status_code
        == 302
    )
    second = app.test_client()
    _password_step(second, staff)
    assert (
        post_form(second, "/login/mfa", {"code": code}, token_from="/login/mfa").status_code == 401
    )


def test_the_challenge_needs_the_password_step_first(client, staff: User) -> None:
    code = pyotp.TOTP(MFA_SECRETS[staff.email]).now()
    response = post_form(client, "/login/mfa", {"code": code}, token_from="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/api/v1/me").status_code == 401


def test_five_wrong_codes_end_the_challenge(client, staff: User) -> None:
    _password_step(client, staff)
    for _ in range(4):
        assert post_form(
            client, "/login/mfa", {"code": "000000"}, token_from="/login/mfa"
        ).status_code in (401, 429)
    last = post_form(client, "/login/mfa", {"code": "000000"}, token_from="/login/mfa")
    assert last.status_code in (302, 429)
    assert client.get("/api/v1/me").status_code == 401


def test_replaying_an_older_cookie_gives_no_new_tries(app: Flask, client, staff: User) -> None:
    """The five tries are counted on the server, not in the cookie."""
    app.config["SIGN_IN_FREE_FAILURES"] = 100  # the account backoff is not what is tested here
    _password_step(client, staff)
    fresh_cookie = client.get_cookie("artifact_session").value
    for _ in range(4):
        wrong = post_form(client, "/login/mfa", {"code": "000000"}, token_from="/login/mfa")
        assert wrong.status_code == 401
    ended = post_form(client, "/login/mfa", {"code": "000000"}, token_from="/login/mfa")
    assert (ended.status_code, ended.headers["Location"]) == (302, "/login")
    client.set_cookie("artifact_session", fresh_cookie)  # the cookie from before the tries
    replayed = post_form(
        client, "/login/mfa", {"code": sign_in_code(staff.email)}, token_from="/login/mfa"
    )
    assert (replayed.status_code, replayed.headers["Location"]) == (302, "/login")
    assert client.get("/api/v1/me").status_code == 401


def test_refused_codes_and_passwords_are_kept_though_the_request_fails(client, staff: User) -> None:
    """The 401 and the 403 roll their requests back; the count and the events stay."""
    from artifact.identity.services.sign_in import throttle_key

    _password_step(client, staff)
    wrong = post_form(client, "/login/mfa", {"code": "000000"}, token_from="/login/mfa")
    assert wrong.status_code == 401
    assert db.session.get(SignInThrottle, throttle_key(staff.email, "127.0.0.1")).failures == 1
    assert (
        post_form(
            client, "/login/mfa", {"code": sign_in_code(staff.email)}, token_from="/login/mfa"
        ).status_code
        == 302
    )
    assert db.session.get(SignInThrottle, throttle_key(staff.email, "127.0.0.1")) is None
    refused = post_form(
        client,
        "/account/mfa/recovery-codes",
        {"password": "not it at all"},
        token_from="/account/mfa",
    )
    assert refused.status_code == 403
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.outcome == "failure").order_by(AuditEvent.seq)
    ).all()
    assert [(e.action, e.target_id) for e in events] == [
        ("auth.mfa", staff.id),
        ("mfa.recovery_codes", staff.id),
    ]
    assert '"reason":"wrong_password"' in events[1].details


def test_api_tokens_need_no_second_factor(app: Flask, runner, make_user) -> None:
    admin = make_user("admin", mfa=False)
    token = runner.invoke(args=["tokens", "create", admin.email]).output.strip().splitlines()[-1]
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_staff_cannot_turn_mfa_off_but_customers_can(app: Flask, client, make_user) -> None:
    staff = make_user("staff")
    sign_in(client, staff.email)
    refused = post_form(
        client, "/account/mfa/disable", {"password": PASSWORD}, token_from="/account/mfa"
    )
    assert refused.status_code == 403
    customer = make_user("customer", mfa=True)
    other = app.test_client()
    sign_in(other, customer.email)
    assert (
        post_form(
            other, "/account/mfa/disable", {"password": PASSWORD}, token_from="/account/mfa"
        ).status_code
        == 302
    )
    assert (
        db.session.scalars(
            select(MfaCredential).where(MfaCredential.user_id == customer.id)
        ).first()
        is None
    )


def test_admin_resets_a_lost_factor(app: Flask, client, admin: User, make_user) -> None:
    staff = make_user("staff")
    victim = app.test_client()
    sign_in(victim, staff.email)
    sign_in(client, admin.email)
    response = post_form(
        client, f"/admin/users/{staff.id}/mfa/reset", token_from=f"/admin/users/{staff.id}"
    )
    assert response.status_code == 302
    assert victim.get("/api/v1/me").status_code == 401  # sessions ended
    again = app.test_client()
    assert (
        post_form(again, "/login", {"email": staff.email, "password": PASSWORD}).status_code == 302
    )
    assert again.get("/admin/").headers["Location"] == "/account/mfa"
    assert "mfa.reset" in db.session.scalars(select(AuditEvent.action)).all()
