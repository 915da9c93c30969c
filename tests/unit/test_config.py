"""Settings: the production refusal and the environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifact import create_app
from artifact.config import ConfigError, load_config, serving_settings

STRONG = "k" * 20 + "Zq8-vW3_pLm9xR2tYb7n"


def test_production_refuses_to_start_without_a_secret(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ARTIFACT_SECRET_KEY", raising=False)
    monkeypatch.setenv("ARTIFACT_ENV", "production")
    monkeypatch.setenv("ARTIFACT_DATA_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="ARTIFACT_SECRET_KEY is missing"):
        create_app()


@pytest.mark.parametrize("secret", ["changeme", "dev", "secret", "SECRET"])
def test_production_refuses_known_default_secrets(tmp_path: Path, secret: str) -> None:
    env = {
        "ARTIFACT_ENV": "production",
        "ARTIFACT_SECRET_KEY": secret,
        "ARTIFACT_DATA_DIR": str(tmp_path),
    }
    with pytest.raises(ConfigError, match="known default value.*Set ARTIFACT_SECRET_KEY"):
        load_config(environ=env)


def test_production_refuses_a_short_secret(tmp_path: Path) -> None:
    env = {
        "ARTIFACT_ENV": "production",
        "ARTIFACT_SECRET_KEY": "short-but-not-default",
        "ARTIFACT_DATA_DIR": str(tmp_path),
    }
    with pytest.raises(ConfigError, match="too short"):
        load_config(environ=env)


LINKS = {
    "ARTIFACT_BASE_URL": "https://trust.example.com",
    "ARTIFACT_TRUSTED_HOSTS": "trust.example.com",
}


def test_production_with_a_real_secret(tmp_path: Path) -> None:
    env = {
        "ARTIFACT_ENV": "production",
        "ARTIFACT_SECRET_KEY": STRONG,
        "ARTIFACT_DATA_DIR": str(tmp_path),
        "ARTIFACT_DATABASE_URL": "postgresql://u@db.example/artifact",
        **LINKS,
    }
    config = load_config(environ=env)
    assert config["SECRET_KEY"] == STRONG
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    # The __Host- prefix: the browser keeps it only Secure, for Path=/ and without Domain.
    assert config["SESSION_COOKIE_NAME"] == "__Host-artifact_session"
    assert config["SESSION_COOKIE_PATH"] == "/"
    assert config["SESSION_COOKIE_DOMAIN"] is None
    assert config["BASE_URL"] == "https://trust.example.com"
    assert config["TRUSTED_HOSTS"] == ["trust.example.com"]
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/artifact"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ({"ARTIFACT_BASE_URL": ""}, "ARTIFACT_BASE_URL is missing"),
        ({"ARTIFACT_BASE_URL": "trust.example.com"}, "ARTIFACT_BASE_URL is missing or not"),
        ({"ARTIFACT_TRUSTED_HOSTS": ""}, "ARTIFACT_TRUSTED_HOSTS is missing"),
    ],
)
def test_production_refuses_to_start_without_base_url_and_trusted_hosts(
    tmp_path: Path, monkeypatch, missing: dict, message: str
) -> None:
    for name, value in {**LINKS, **missing}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ARTIFACT_ENV", "production")
    monkeypatch.setenv("ARTIFACT_SECRET_KEY", STRONG)
    monkeypatch.setenv("ARTIFACT_DATA_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_production_refuses_memory_limits_for_several_workers(tmp_path: Path) -> None:
    env = {
        "ARTIFACT_ENV": "production",
        "ARTIFACT_SECRET_KEY": STRONG,
        "ARTIFACT_DATA_DIR": str(tmp_path),
        **LINKS,
    }
    with pytest.raises(ConfigError, match="ARTIFACT_RATELIMIT_STORAGE is memory://"):
        load_config(environ={**env, "ARTIFACT_WORKERS": "3"})
    with pytest.raises(ConfigError, match="5 worker processes"):
        serving_settings({}, cpu_count=2)
    # One worker, or a shared store, or outside production: fine.
    assert load_config(environ={**env, "ARTIFACT_WORKERS": "1"})["ARTIFACT_ENV"] == "production"
    redis = {"ARTIFACT_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0"}
    assert serving_settings(redis, cpu_count=2)["workers"] == 5
    assert serving_settings({"ARTIFACT_ENV": "development"}, cpu_count=2)["workers"] == 5
    assert load_config(environ={**env, **redis, "ARTIFACT_WORKERS": "3"})[
        "RATELIMIT_STORAGE_OPTIONS"
    ] == {"wrap_exceptions": True, "socket_connect_timeout": 2, "socket_timeout": 2}


def test_outside_production_links_and_cookie_stay_local(tmp_path: Path) -> None:
    for env in ("development", "testing"):
        config = load_config(environ={"ARTIFACT_ENV": env, "ARTIFACT_DATA_DIR": str(tmp_path)})
        assert config["BASE_URL"] is None  # links follow the request's host (README)
        assert config["SESSION_COOKIE_NAME"] == "artifact_session"  # plain HTTP: no __Host-


def test_development_makes_and_keeps_a_random_key(tmp_path: Path) -> None:
    env = {"ARTIFACT_ENV": "development", "ARTIFACT_DATA_DIR": str(tmp_path)}
    first = load_config(environ=env)["SECRET_KEY"]
    assert len(first) >= 32
    assert load_config(environ=env)["SECRET_KEY"] == first
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o777 == 0o600
    assert load_config(environ=env)["SESSION_COOKIE_SECURE"] is False


def test_default_database_lives_in_the_data_dir(tmp_path: Path) -> None:
    config = load_config(environ={"ARTIFACT_ENV": "testing", "ARTIFACT_DATA_DIR": str(tmp_path)})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'artifact.db'}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ARTIFACT_ENV": "staging"}, "ARTIFACT_ENV must be one of"),
        ({"ARTIFACT_ENV": "testing", "ARTIFACT_MAX_UPLOAD_MB": "lots"}, "must be an integer"),
    ],
)
def test_bad_settings_say_what_is_wrong(tmp_path: Path, env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(environ={**env, "ARTIFACT_DATA_DIR": str(tmp_path)})


def test_postgres_search_needs_a_postgres_database(tmp_path: Path) -> None:
    environ = {"ARTIFACT_SEARCH_BACKEND": "postgres", "ARTIFACT_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="ARTIFACT_SEARCH_BACKEND=postgres .* PostgreSQL"):
        load_config({"ARTIFACT_ENV": "testing"}, environ=environ)
    url = "postgresql://artifact@db.internal/artifact"
    config = load_config(
        {"ARTIFACT_ENV": "testing"}, environ=environ | {"ARTIFACT_DATABASE_URL": url}
    )
    assert config["SEARCH_BACKEND"] == "postgres"
