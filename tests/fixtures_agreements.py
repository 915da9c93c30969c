"""Fixtures for the agreements feature: API clients with tokens, a published NDA."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from artifact.agreements.services import agreements
from artifact.extensions import db
from artifact.identity.services import tokens
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller
from artifact.models import Agreement, User

NDA_TEXT = "Mutual NDA (SAMPLE).\n\n1. Keep it secret.\nKeep it safe.\n\n2. <b>Not</b> markup & co."


class Api:
    """A JSON API caller with a personal token."""

    def __init__(self, client: FlaskClient, user: User) -> None:
        self.client, self.user = client, user
        _token, raw = tokens.create(db.session, OPERATOR, user, "test")
        uow.commit(db.session)
        self.headers = {"Authorization": f"Bearer {raw}", "User-Agent": "pytest-agent/1.0"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self.headers, **kwargs)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post("/api/v1" + path, json=body, headers=self.headers)


@pytest.fixture
def api_as(client: FlaskClient) -> Callable[[User], Api]:
    return lambda user: Api(client, user)


@pytest.fixture
def nda(app: Any, make_user: Callable[..., User]) -> Agreement:
    """A mutual NDA at version 1, created by an admin."""
    admin = make_user("admin")
    agreement = agreements.create_agreement(
        db.session, Caller.of_user(admin), title="Mutual NDA", kind="nda", text=NDA_TEXT
    )
    uow.commit(db.session)
    return agreement
