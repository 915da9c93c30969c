"""Commands: clear errors with exit 1 and nothing half-created; the demo seed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from artifact.extensions import db
from artifact.models import AuditCheckpoint, AuditEvent, Organization, User
from tests.conftest import PASSWORD


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(Organization)),
    )


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "wizard"], PASSWORD, "unknown role 'wizard'"),
        (["--role", "staff"], "", "the password is empty"),
        (["--role", "staff"], "short", "at least 12 characters"),
        (["--role", "customer", "--org", "Brand New Org"], "", "the password is empty"),
        (["--role", "staff", "--org-admin"], PASSWORD, "needs an organisation"),
    ],
)
def test_users_create_rejects_bad_input(runner, args, stdin, message) -> None:
    before = _counts()
    result = runner.invoke(
        args=["users", "create", "new@x.test", *args, "--password-stdin"], input=stdin + "\n"
    )
    assert result.exit_code == 1
    assert message in result.output
    assert _counts() == before  # neither the user nor a new organisation


def test_users_create_rejects_duplicates_and_bad_emails(runner) -> None:
    ok = runner.invoke(
        args=[
            "users",
            "create",
            "dup@x.test",
            "--role",
            "customer",
            "--org",
            "Acme",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert ok.exit_code == 0, ok.output
    assert "created customer dup@x.test in Acme" in ok.output
    before = _counts()
    again = runner.invoke(
        args=["users", "create", "DUP@x.test", "--role", "staff", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert again.exit_code == 1
    assert "already exists" in again.output
    bad = runner.invoke(
        args=["users", "create", "not-an-email", "--role", "staff", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert bad.exit_code == 1
    assert "not a valid e-mail" in bad.output
    assert _counts() == before


def test_tokens_create_for_unknown_user(runner) -> None:
    result = runner.invoke(args=["tokens", "create", "ghost@x.test"])
    assert result.exit_code == 1
    assert "no user with e-mail" in result.output


def test_seed_demo_is_idempotent_with_random_passwords(runner) -> None:
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    users_after_first = _counts()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert _counts() == users_after_first
    assert users_after_first[0] >= 6

    def password_of(output: str, email: str) -> str:
        line = next(line for line in output.splitlines() if email in line)
        return line.split()[1]

    assert password_of(first.output, "admin@artifact.test") != password_of(
        second.output, "admin@artifact.test"
    )


def test_seed_demo_passwords_sign_in(app, runner) -> None:
    from tests.conftest import sign_in

    result = runner.invoke(args=["seed-demo"])
    line = next(line for line in result.output.splitlines() if "alice@acme-health.test" in line)
    password = line.split()[1]
    assert sign_in(app.test_client(), "alice@acme-health.test", password).status_code == 302


def test_seed_demo_refuses_production(app, runner) -> None:
    app.config["ARTIFACT_ENV"] = "production"
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "refusing" in result.output
    assert _counts() == (0, 0)


def test_init_is_idempotent(runner) -> None:
    for _ in range(2):
        result = runner.invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert "database ready" in result.output


def test_a_command_commits_once_and_signs_checkpoints_as_configured(app, runner) -> None:
    app.config["AUDIT_CHECKPOINT_EVERY"] = 1
    result = runner.invoke(
        args=["users", "create", "cp@x.test", "--role", "staff", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    db.session.remove()  # read back what was committed, not what the session holds
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create")).one()
    assert created.seq in db.session.scalars(select(AuditCheckpoint.event_seq)).all()
