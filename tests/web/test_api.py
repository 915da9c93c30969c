"""The JSON API skeleton: Bearer tokens, /me, errors, the OpenAPI document."""

from __future__ import annotations

import re

from sqlalchemy import select

from artifact.extensions import db
from artifact.identity.services import accounts, tokens
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from artifact.models import ApiToken, User
from tests.conftest import PASSWORD


def test_cli_token_works_on_me(app, runner) -> None:
    result = runner.invoke(
        args=["users", "create", "a@x.test", "--role", "staff", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tokens", "create", "a@x.test"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.get_json()["email"] == "a@x.test"
    assert response.get_json()["role"] == "staff"
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash != raw
    assert raw not in stored.token_hash
    assert stored.last_used_at is not None


def test_revoked_and_disabled_tokens_stop_working(client, customer: User) -> None:
    token, raw = tokens.create(db.session, OPERATOR, customer, "t")
    uow.commit(db.session)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    tokens.revoke(db.session, OPERATOR, token.id)
    uow.commit(db.session)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    _t2, raw2 = tokens.create(db.session, OPERATOR, customer, "t2")
    accounts.set_disabled(db.session, OPERATOR, customer, True)
    uow.commit(db.session)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw2}"}).status_code == 401


def test_garbage_tokens_get_401_json(client) -> None:
    for header in ["Bearer nope", "Bearer art_" + "x" * 500, "Basic Zm9vOmJhcg==", "Bearer "]:
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthenticated"


def test_bearer_writes_need_no_csrf_but_cookie_writes_do(client, customer: User, login_as) -> None:
    _token, raw = tokens.create(db.session, OPERATOR, customer, "t")
    uow.commit(db.session)
    # an unknown API write path: with a token the CSRF check is skipped and routing answers
    response = client.post("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    # no credentials at all: not a cross-site form, so not judged by CSRF but by sign-in
    response = client.post("/api/v1/access-requests", json={"series": "SOC"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
    # a write authenticated by the session cookie needs the CSRF token
    login_as(customer)
    response = client.post("/api/v1/access-requests", json={"series": "SOC"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_a_bad_token_is_401_even_where_visitors_are_served(client) -> None:
    assert client.get("/api/v1/reports").status_code == 200
    response = client.get("/api/v1/reports", headers={"Authorization": "Bearer art_nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
    assert (
        client.get("/api/v1/openapi.json", headers={"Authorization": "Bearer x"}).status_code == 200
    )


def test_unknown_api_path_is_json_404(client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": "not_found", "message": response.get_json()["error"]["message"]}
    }


def test_openapi_document_lists_the_routes(app, client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    api_rules = {
        rule.rule.removeprefix("/api/v1")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
    }
    documented = {path.replace("{", "<").replace("}", ">") for path in document["paths"]}
    assert {_plain(r) for r in api_rules} <= {_plain(p) for p in documented}


def _plain(path: str) -> str:
    import re

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"<\1>", path)


def test_me_describes_the_user(client, make_user) -> None:
    user = make_user("customer", org="Acme Health", org_admin=True)
    _token, raw = tokens.create(db.session, OPERATOR, user)
    uow.commit(db.session)
    body = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert body == {
        "id": user.id,
        "email": user.email,
        "name": "Carla Customer",
        "role": "customer",
        "organization": "Acme Health",
        "org_admin": True,
    }


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_operation_has_an_operation_id_and_links_name_real_ones(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    ids = [operation.get("operationId") for _m, _p, operation in _operations(document)]
    missing = [
        f"{m} {p}" for m, p, operation in _operations(document) if not operation.get("operationId")
    ]
    assert missing == []
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in ids), ids
    targets = {
        link["operationId"]
        for _m, _p, operation in _operations(document)
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    }
    assert targets
    assert targets <= set(ids)


def test_visitors_operations_declare_optional_auth_and_the_rest_need_a_token(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["security"] == [{"bearer": []}]
    search = document["paths"]["/search"]["get"]
    assert search["security"] == [{}, {"bearer": []}]
    assert "401" in search["responses"]  # a bad token is refused even here
    assert client.get("/api/v1/search").status_code == 200
    for path in ("/me", "/agreements", "/frameworks", "/evidence", "/audit/events"):
        assert "security" not in document["paths"][path]["get"], path
        assert client.get(f"/api/v1{path}").status_code == 401, path
