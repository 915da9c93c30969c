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
    assert event is not None
    assert '"reason":"rate_limit"' in event.details


def _token_for(app: Flask, user: User) -> str:
    result = app.test_cli_runner().invoke(args=["tokens", "create", user.email])
    return result.output.strip().splitlines()[-1]


def _token_works(app: Flask, token: str) -> bool:
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code == 200


def _revocations(user: User) -> list[str]:
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "token.revoke_all", AuditEvent.target_id == user.id
        )
    ).all()
    return [e.details for e in events]


def test_a_password_change_revokes_the_api_tokens(
    app: Flask, client, login_as, customer: User
) -> None:
    token = _token_for(app, customer)
    assert _token_works(app, token)
    login_as(customer)
    changed = post_form(
        client,
        "/account/password",
        {"current": PASSWORD, "new": "plum orbit lantern quietly 42"},
        token_from="/account/",
    )
    assert changed.status_code == 302
    assert not _token_works(app, token)
    assert '"reason":"password_changed"' in _revocations(customer)[0]


def test_a_reset_revokes_the_api_tokens(app: Flask, customer: User) -> None:
    from artifact.identity.services import email_links
    from artifact.kernel import uow
    from artifact.kernel.caller import Caller

    token = _token_for(app, customer)
    _user, raw = email_links.request_reset(db.session, Caller.anonymous(), customer.email)
    email_links.reset_password(db.session, Caller.anonymous(), raw, "plum orbit lantern 42 q")
    uow.commit(db.session)
    assert not _token_works(app, token)
    assert '"reason":"password_reset"' in _revocations(customer)[0]


def test_disabling_revokes_tokens_and_enabling_revives_none(
    app: Flask, client, login_as, admin: User, customer: User
) -> None:
    token = _token_for(app, customer)
    login_as(admin)
    assert post_form(client, f"/admin/users/{customer.id}/disable").status_code == 302
    assert post_form(client, f"/admin/users/{customer.id}/enable").status_code == 302
    assert not _token_works(app, token)
    assert '"reason":"disabled"' in _revocations(customer)[0]


def test_a_role_change_revokes_tokens(app: Flask, client, login_as, admin: User, make_user) -> None:
    """A customer's token promoted to staff would have staff power without a second factor."""
    user = make_user("customer", mfa=False)
    token = _token_for(app, user)
    login_as(admin)
    assert post_form(client, f"/admin/users/{user.id}/role", {"role": "staff"}).status_code == 302
    db.session.refresh(user)
    assert user.role == "staff"
    assert not _token_works(app, token)
    assert '"reason":"role_changed"' in _revocations(user)[0]


def test_reset_mail_is_limited_per_address_whatever_the_source(
    app: Flask, client, customer: User
) -> None:
    """15 requests for one address in a moment from 11 source addresses: 3 mails (the
    default per-address limit), the same answer every time."""
    from artifact.models import AccountToken

    answers = set()
    for i in range(15):
        response = post_form(
            client,
            "/reset",
            {"email": customer.email},
            token_from="/reset",
            environ_base={"REMOTE_ADDR": f"198.51.100.{i % 11}"},
        )
        assert response.status_code == 200
        answers.add("If an account exists" in response.get_data(as_text=True))
    assert answers == {True}
    issued = db.session.scalars(
        select(AccountToken).where(AccountToken.user_id == customer.id)
    ).all()
    assert len(issued) == 3
    refused = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "auth.reset_requested", AuditEvent.outcome == "failure"
        )
    ).all()
    assert len(refused) == 12
    assert all('"reason":"address_limit"' in e.details for e in refused)


def test_reset_and_verification_pages_are_not_cached(client) -> None:
    for path in ("/reset/not-a-live-token", "/verify-email/not-a-live-token"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"


LONG = "correct horse battery staple " * 7  # 203 characters, as pasted from a manager


def test_a_long_new_password_is_refused_by_the_server_not_cut_by_the_browser(
    app: Flask, client, login_as, customer: User
) -> None:
    login_as(customer)
    page = client.get("/account/").get_data(as_text=True)
    assert 'maxlength="128"' not in page
    response = post_form(
        client, "/account/password", {"current": PASSWORD, "new": LONG}, token_from="/account/"
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "at most 128 characters" in text
    assert "Fill in both password fields" not in text


def test_the_reset_form_says_at_most_128_characters(app: Flask, client, customer: User) -> None:
    from artifact.identity.services import email_links
    from artifact.kernel import uow
    from artifact.kernel.caller import Caller

    _user, raw = email_links.request_reset(db.session, Caller.anonymous(), customer.email)
    uow.commit(db.session)
    page = client.get(f"/reset/{raw}").get_data(as_text=True)
    assert 'maxlength="128"' not in page
    response = post_form(client, f"/reset/{raw}", {"password": LONG}, token_from=f"/reset/{raw}")
    assert response.status_code == 400
    assert "at most 128 characters" in response.get_data(as_text=True)


def _signed_in(app: Flask, user: User, agent: str):
    from tests.conftest import sign_in

    browser = app.test_client()
    browser.environ_base["HTTP_USER_AGENT"] = agent
    assert sign_in(browser, user.email).status_code == 302
    return browser


def test_users_list_their_sessions_and_end_one_through_the_api(
    app: Flask, customer: User, hostile: User
) -> None:
    laptop = _signed_in(app, customer, "Laptop Firefox")
    phone = _signed_in(app, customer, "Phone Safari")
    theirs = _signed_in(app, hostile, "Someone else")
    listed = laptop.get("/api/v1/me/sessions").get_json()
    assert listed["total"] == 2
    by_agent = {item["user_agent"]: item for item in listed["items"]}
    assert set(by_agent) == {"Laptop Firefox", "Phone Safari"}
    assert by_agent["Laptop Firefox"]["current"] is True
    assert by_agent["Phone Safari"]["current"] is False
    assert by_agent["Phone Safari"]["ip"] == "127.0.0.1"
    assert set(by_agent["Phone Safari"]) == {
        "id",
        "created_at",
        "last_seen_at",
        "ip",
        "user_agent",
        "current",
    }
    token = _token_for(app, customer)
    bearer = {"Authorization": f"Bearer {token}"}
    other_id = theirs.get("/api/v1/me/sessions").get_json()["items"][0]["id"]
    api = app.test_client()
    assert api.delete(f"/api/v1/me/sessions/{other_id}", headers=bearer).status_code == 404
    assert theirs.get("/api/v1/me").status_code == 200
    phone_id = by_agent["Phone Safari"]["id"]
    assert api.delete(f"/api/v1/me/sessions/{phone_id}", headers=bearer).status_code == 204
    assert phone.get("/api/v1/me").status_code == 401
    assert laptop.get("/api/v1/me").status_code == 200
    assert api.delete(f"/api/v1/me/sessions/{phone_id}", headers=bearer).status_code == 404
    assert [i["user_agent"] for i in laptop.get("/api/v1/me/sessions").get_json()["items"]] == [
        "Laptop Firefox"
    ]
    ended = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.session_end")
    ).one()
    assert ended.target_id == customer.id


def test_the_account_page_lists_sessions_and_ends_one(app: Flask, customer: User) -> None:
    laptop = _signed_in(app, customer, "Laptop Firefox")
    phone = _signed_in(app, customer, "Phone Safari")
    page = laptop.get("/account/").get_data(as_text=True)
    assert "Signed-in sessions" in page
    assert "Laptop Firefox <strong>(this session)</strong>" in page
    assert "Phone Safari" in page
    phone_id = next(
        i["id"]
        for i in laptop.get("/api/v1/me/sessions").get_json()["items"]
        if i["user_agent"] == "Phone Safari"
    )
    response = post_form(laptop, f"/account/sessions/{phone_id}/end", token_from="/account/")
    assert (response.status_code, response.headers["Location"]) == (302, "/account/")
    assert phone.get("/api/v1/me").status_code == 401
    assert laptop.get("/api/v1/me").status_code == 200


def test_sign_out_clears_site_data(app: Flask, customer: User) -> None:
    browser = _signed_in(app, customer, "Laptop Firefox")
    response = post_form(browser, "/logout")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    # The message cannot ride in the cleared cookie: the sign-in page says it.
    assert response.headers["Location"] == "/login?signed_out=1"
    assert "You are signed out." in browser.get("/login?signed_out=1").get_data(as_text=True)


def test_development_makes_the_data_directory_and_database_private(tmp_path, monkeypatch) -> None:
    import os
    import stat

    from artifact import create_app

    monkeypatch.delenv("ARTIFACT_DATABASE_URL", raising=False)  # the default: SQLite inside
    data_dir = tmp_path / "instance"
    umask = os.umask(0o022)  # the usual one, under which SQLite made its file 0644
    try:
        app = create_app({"ARTIFACT_ENV": "development", "DATA_DIR": str(data_dir)})
        with app.app_context():
            db.session.execute(select(1))  # SQLite opens (and would create) the file
            db.engine.dispose()
    finally:
        os.umask(umask)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "artifact.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "dev-secret-key").stat().st_mode) == 0o600
