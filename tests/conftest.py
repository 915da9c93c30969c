"""Shared fixtures: a real database per test (SQLite file or a PostgreSQL database cloned from a
migrated template), the app, clients, and users of every role."""

from __future__ import annotations

import contextvars
import itertools
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from artifact import create_app
from artifact.extensions import db
from artifact.identity.services import accounts
from artifact.infra.storage import store_for
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR, Caller
from artifact.models import User

pytest_plugins = [
    "tests.fixtures_agreements",
    "tests.fixtures_backup",
    "tests.fixtures_catalog",
    "tests.fixtures_evidence",
    "tests.fixtures_engagements",
    "tests.fixtures_frameworks",
    "tests.fixtures_hsm",
    "tests.fixtures_mail",
    "tests.fixtures_s3",
    "tests.fixtures_saml",
    "tests.fixtures_search",
    "tests.fixtures_webhooks",
    "tests.fixtures_engagement_pages",  # after the fixtures it imports
]

PASSWORD = "correct horse battery staple"
# TOTP secrets and recovery codes of the users make_user enrolled, by e-mail (tests only).
MFA_SECRETS: dict[str, str] = {}
RECOVERY_CODES: dict[str, list[str]] = {}
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
_CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def corpus_path(*parts: str) -> Path:
    """A path in ../shared/corpus, or skip the test saying why (a fresh clone has no corpus)."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpus is not beside this checkout")
    return path


def _postgres_url() -> str | None:
    url = os.environ.get("ARTIFACT_DATABASE_URL")
    return url if url and url.startswith("postgresql") else None


def _sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _migrate(url: str, data_dir: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(
        {"ARTIFACT_ENV": "testing", "DATA_DIR": str(data_dir), "SQLALCHEMY_DATABASE_URI": url}
    )
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Migrate once per run; each test then gets a copy."""
    work = tmp_path_factory.mktemp("template")
    pg = _postgres_url()
    if pg is None:
        path = work / "template.db"
        _migrate(f"sqlite:///{path}", work)
        yield {"kind": "sqlite", "path": path}
        return
    base = make_url(_sa_url(pg))
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    template = f"{base.database}_tpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{template}"'))
    _migrate(base.set(database=template).render_as_string(hide_password=False), work)
    try:
        yield {"kind": "postgresql", "base": base, "template": template, "admin": admin}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()


_counter = itertools.count()


@pytest.fixture
def database_url(database_template: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    if database_template["kind"] == "sqlite":
        path = tmp_path / "artifact.db"
        shutil.copyfile(database_template["path"], path)
        yield f"sqlite:///{path}"
        return
    name = f"{database_template['template'][:40]}_{os.getpid()}_{next(_counter)}"
    admin = database_template["admin"]
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{database_template["template"]}"'))
    try:
        yield database_template["base"].set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The test body keeps an app context for its own database look-ups; without this, requests
    would share that context's ``g`` (flask-login's cached user, Flask-WTF's cached token) and
    its database session, and tests could pass for reasons a browser never sees."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():  # (a redirect followed inside the isolated context has none)
            db.session.expire_all()  # the test's own session reads what the request committed
        return response


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    data_dir = tmp_path / "data"
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(data_dir),
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    app.test_client_class = IsolatedClient
    store_for(app).keyring.create()  # as `flask init` does
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


# Account names of test users, per role: an acceptance's typed name must match the account's.
DEFAULT_NAMES = {
    "customer": "Carla Customer",
    "auditor": "Aldo Auditor",
    "staff": "Sam Staff",
    "admin": "Ada Admin",
}


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    counter = itertools.count(1)

    def factory(
        role: str = "customer",
        org: str | None = None,
        org_admin: bool = False,
        email: str | None = None,
        password: str = PASSWORD,
        mfa: bool | None = None,
        name: str | None = None,
    ) -> User:
        """A user; staff and admins are enrolled in TOTP unless ``mfa=False`` (sign_in and
        login_as then answer the second step themselves). The name (what an agreement's typed
        name must match) defaults to one per role: ``DEFAULT_NAMES``."""
        email = email or f"{role}{next(counter)}-{uuid.uuid4().hex[:6]}@example.test"
        user = accounts.create_user(
            db.session,
            OPERATOR,
            email=email,
            role=role,
            password=password,
            name=DEFAULT_NAMES.get(role, "") if name is None else name,
            organization=org,
            org_admin=org_admin,
            create_organization_if_missing=True,
        )
        if mfa if mfa is not None else role in ("staff", "admin"):
            enroll_mfa(app, user, password)
        uow.commit(db.session)  # the test's unit of work: requests see the user
        return user

    return factory


@pytest.fixture
def customer(make_user: Callable[..., User]) -> User:
    return make_user("customer", org="Acme Health")


@pytest.fixture
def hostile(make_user: Callable[..., User]) -> User:
    """A customer of another organisation, who must see nothing of Acme's."""
    return make_user("customer", org="Evil Corp")


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user("auditor", org="Ledger Auditors")


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    return make_user("staff")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("admin")


def csrf_token(client: FlaskClient, path: str | None = None) -> str:
    """The CSRF token of the client's session, read from a real form (the sign-out button when
    signed in, the sign-in form otherwise)."""
    for candidate in [path] if path else ["/", "/login"]:
        match = _CSRF_RE.search(client.get(candidate).get_data(as_text=True))
        if match:
            return match.group(1) or match.group(2)
    raise AssertionError(f"no CSRF token found on {path or '/ or /login'}")


def post_form(
    client: FlaskClient,
    path: str,
    data: dict[str, Any] | None = None,
    token_from: str | None = None,
    **kwargs: Any,
) -> Any:
    """POST a form the way a browser does: with the session's CSRF token."""
    payload = {"csrf_token": csrf_token(client, token_from), **(data or {})}
    return client.post(path, data=payload, **kwargs)


def enroll_mfa(app: Flask, user: User, password: str = PASSWORD) -> None:
    """Enrol ``user`` in TOTP through the service, remembering the secret and codes."""
    import pyotp

    from artifact.identity.services import mfa

    keyring = store_for(app).keyring
    secret, _uri = mfa.begin_enrolment(db.session, Caller.operator("test"), user, password, keyring)
    codes = mfa.confirm_enrolment(
        db.session, Caller.operator("test"), user, pyotp.TOTP(secret).now(), keyring
    )
    MFA_SECRETS[user.email] = secret
    RECOVERY_CODES[user.email] = codes


def second_factor_code(email: str) -> str:
    """A code the server will accept now: the TOTP of an unused time step (within the allowed
    drift), else a recovery code."""
    import time

    import pyotp

    from artifact.identity.services.lookup import user_by_email
    from artifact.models import MfaCredential

    totp = pyotp.TOTP(MFA_SECRETS[email])
    user = user_by_email(db.session, email)
    cred = db.session.scalar(select(MfaCredential).where(MfaCredential.user_id == user.id))
    now_step = int(time.time() // totp.interval)
    step = max(now_step, (cred.last_used_step or 0) + 1)
    if step <= now_step + 1:
        return totp.generate_otp(step)
    return RECOVERY_CODES[email].pop()


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in like a browser; answers the second step for users make_user enrolled."""
    response = post_form(client, "/login", {"email": email, "password": password})
    second_step = response.status_code == 302 and response.headers["Location"] == "/login/mfa"
    if second_step and email in MFA_SECRETS:
        return post_form(
            client, "/login/mfa", {"code": second_factor_code(email)}, token_from="/login/mfa"
        )
    return response


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[..., FlaskClient]:
    def do(user: User, password: str = PASSWORD) -> FlaskClient:
        response = sign_in(client, user.email, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do
