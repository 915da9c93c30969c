"""Settings: the production refusal and the environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifact import create_app
from artifact.config import ConfigError, load_config

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


def test_production_with_a_real_secret(tmp_path: Path) -> None:
    env = {
        "ARTIFACT_ENV": "production",
        "ARTIFACT_SECRET_KEY": STRONG,
        "ARTIFACT_DATA_DIR": str(tmp_path),
        "ARTIFACT_DATABASE_URL": "postgresql://u@db.example/artifact",
    }
    config = load_config(environ=env)
    assert config["SECRET_KEY"] == STRONG
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/artifact"


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
