"""The OpenAPI contract run: schemathesis (a real OpenAPI testing tool) drives the served API over
loopback with every check, a fixed seed and one role's token, on the suite's database (SQLite,
or PostgreSQL when ARTIFACT_DATABASE_URL names it), and must find no failure in any phase. One
test file per role (test_openapi_contract*.py), so parallel workers run the roles at once."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import upgrade

from artifact import create_app
from artifact.demo import seed as demo
from artifact.extensions import db
from artifact.identity.services import tokens
from artifact.identity.services.lookup import user_by_email
from artifact.kernel import uow
from artifact.kernel.caller import OPERATOR
from tests.live_server import serve

SEED = 20261202
# Per-operation statuses for rules a schema cannot express (each one explained in the file).
CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = {
    "staff": "staff@artifact.test",
    "customer": "bob@acme-health.test",
    "admin": "admin@artifact.test",
    # The demo auditor (on the demo's engagement): run when CONTRACT_ROLES names it.
    "auditor": "auditor@ledger-audit.test",
}
DEFAULT_ROLES = ("staff", "customer", "admin")
# Generous budgets: the tool sends hundreds of requests a minute on purpose.
LIMITS = {
    "RATELIMIT_DOWNLOADS": "100000 per hour",
    "RATELIMIT_SIGN_IN": "100000 per minute",
    "RATELIMIT_RESET": "100000 per minute",
}


def schemathesis() -> str:
    tool = Path(sys.executable).with_name("st")
    if not tool.exists():
        pytest.skip("schemathesis is not installed (make test installs the test extras)")
    return str(tool)


def _seed(data_dir: Path, database_url: str) -> dict[str, str]:
    """The demo catalog on the suite's database, and an API token per role."""
    app = create_app(
        {
            "ARTIFACT_ENV": "testing",
            "DATA_DIR": str(data_dir),
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        demo.seed(db.session, OPERATOR, password_factory=lambda: secrets.token_urlsafe(12))
        raw = {}
        for role, email in ROLES.items():
            _token, raw[role] = tokens.create(
                db.session, OPERATOR, user_by_email(db.session, email), "contract"
            )
        uow.commit(db.session)
        db.session.remove()
        db.engine.dispose()
    return raw


def schemathesis_finds_no_failure(role: str, database_url: str, tmp_path: Path) -> None:
    """Run the contract as ``role``; skipped when CONTRACT_ROLES leaves the role out."""
    # While working on one part: CONTRACT_PATHS (a regular expression over paths) and
    # CONTRACT_ROLES (comma-separated) narrow the run; CI runs the default roles.
    roles = [r for r in os.environ.get("CONTRACT_ROLES", ",".join(DEFAULT_ROLES)).split(",") if r]
    if role not in roles:
        pytest.skip(f"CONTRACT_ROLES={','.join(roles)} leaves out {role}")
    tool = schemathesis()
    data_dir = tmp_path / "data"
    raw = _seed(data_dir, database_url)
    only = os.environ.get("CONTRACT_PATHS")
    extra = ["--include-path-regex", only] if only else []
    with serve(data_dir, SQLALCHEMY_DATABASE_URI=database_url, **LIMITS) as server:
        result = subprocess.run(  # noqa: S603 (our own tool, fixed arguments)
            [
                tool,
                "--config-file",
                str(CONFIG),
                "run",
                f"{server.url}/api/v1/openapi.json",
                "--checks",
                "all",
                "--seed",
                str(SEED),
                "--generation-database",
                "none",
                "--max-examples",
                "20",
                "--no-color",
                "--header",
                f"Authorization: Bearer {raw[role]}",
                "--max-failures",
                "100",
                *extra,
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    output = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, f"== {role}\n{output}"
