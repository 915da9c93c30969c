"""Response hardening on every HTML page, trusted hosts, request limits, and check-deploy."""

from __future__ import annotations

import pytest
from flask import Flask

from artifact import create_app
from artifact.admin.deploy_checks import deploy_problems
from artifact.extensions import db
from tests.conftest import sign_in

STRONG = "k" * 20 + "Zq8-vW3_pLm9xR2tYb7n-more-random"


def _assert_hardened(response) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_every_html_page_carries_the_security_headers(app: Flask, client, admin) -> None:
    pages = ["/", "/login", "/no-such-page", "/reset"]
    for path in pages:
        _assert_hardened(client.get(path))
    sign_in(client, admin.email)
    seen = 0
    for rule in app.url_map.iter_rules():
        if (
            "GET" not in (rule.methods or set())
            or "<" in rule.rule
            or rule.rule.startswith(("/api/", "/static"))
        ):
            continue
        response = client.get(rule.rule)
        if response.mimetype == "text/html":
            _assert_hardened(response)
            assert "<script" not in response.get_data(as_text=True)
            seen += 1
    assert seen >= 5


def test_no_hsts_in_development(database_url: str, tmp_path) -> None:
    app = create_app(
        {
            "ARTIFACT_ENV": "development",
            "DATA_DIR": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    with app.app_context():
        response = app.test_client().get("/healthz")
        assert "Strict-Transport-Security" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        db.engine.dispose()


def test_untrusted_hosts_are_refused(app: Flask, client) -> None:
    app.config["TRUSTED_HOSTS"] = ["trust.example.com"]
    assert client.get("/", headers={"Host": "trust.example.com"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_oversized_forms_are_refused(app: Flask, client) -> None:
    app.config["MAX_FORM_MEMORY_SIZE"] = 1000
    response = client.post(
        "/login", data={"email": "x" * 5000, "password": "y"}, content_type="multipart/form-data"
    )
    assert response.status_code == 413


def test_check_deploy_fails_on_development_settings(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("ARTIFACT_DATABASE_URL", raising=False)  # the embedded default: SQLite
    app = create_app({"ARTIFACT_ENV": "development", "DATA_DIR": str(tmp_path)})
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 1
    for expected in (
        "ARTIFACT_ENV is 'development'",
        "SQLite",
        "ARTIFACT_RATELIMIT_STORAGE",
        "ARTIFACT_TRUSTED_HOSTS",
        "not marked Secure",
        "HSTS",
        "virus scanning is off: uploads are stored unscanned; set ARTIFACT_CLAMAV_SOCKET",
    ):
        assert expected in result.output


PRODUCTION_LIKE = {
    "ARTIFACT_ENV": "production",
    "ARTIFACT_SECRET_KEY": STRONG,
    "ARTIFACT_DATABASE_URL": "postgresql://artifact@db.internal/artifact",
    "ARTIFACT_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0",
    "ARTIFACT_TRUSTED_HOSTS": "trust.example.com",
    "ARTIFACT_BASE_URL": "https://trust.example.com",
    "ARTIFACT_SMTP_HOST": "smtp.example.com",
    "ARTIFACT_TRUSTED_PROXIES": "1",
    "ARTIFACT_CLAMAV_SOCKET": "/run/clamav/clamd.ctl",
    "ARTIFACT_AUDIT_WITNESS": "syslog://logs.internal:514",
}


def test_check_deploy_passes_on_a_production_like_environment(tmp_path, monkeypatch) -> None:
    for name, value in {**PRODUCTION_LIKE, "ARTIFACT_DATA_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    tmp_path.chmod(0o700)
    app = create_app()
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ({"ARTIFACT_SMTP_HOST": ""}, "ARTIFACT_SMTP_HOST"),
        ({"ARTIFACT_BASE_URL": "http://trust.example.com"}, "ARTIFACT_BASE_URL"),
        ({"ARTIFACT_HSTS_SECONDS": "60"}, "HSTS"),
        ({"ARTIFACT_CLAMAV_SOCKET": ""}, "virus scanning is off"),
        # The default witness sits in the data directory, beside the database it anchors.
        ({"ARTIFACT_AUDIT_WITNESS": ""}, "the audit witness"),
    ],
)
def test_check_deploy_names_each_shortfall(tmp_path, override, words) -> None:
    from artifact.config import load_config

    env = {**PRODUCTION_LIKE, "ARTIFACT_DATA_DIR": str(tmp_path), **override}
    problems = deploy_problems(load_config(environ={k: v for k, v in env.items() if v}))
    assert len(problems) == 1
    assert words in problems[0]


def test_world_readable_keys_fail_the_check(tmp_path) -> None:
    from artifact.config import load_config

    (tmp_path / "audit-signing-key.pem").write_text("x")
    (tmp_path / "audit-signing-key.pem").chmod(0o644)
    tmp_path.chmod(0o700)
    problems = deploy_problems(
        load_config(environ={**PRODUCTION_LIKE, "ARTIFACT_DATA_DIR": str(tmp_path)})
    )
    assert problems == ["the data directory gives other users access to: audit-signing-key.pem"]
