"""What in a configuration falls short of production (``flask check-deploy``), in the manner of
Django's ``check --deploy``. Static checks on the settings here; what only the bucket or the
token can tell is asked in ``scale_checks.connected_problems``."""

from __future__ import annotations

import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from artifact.admin.scale_checks import node_local_problems
from artifact.config import KNOWN_DEFAULT_SECRETS, MIN_SECRET_LENGTH

Check = Callable[[Mapping[str, Any]], str | None]


def _env(c: Mapping[str, Any]) -> str | None:
    if c.get("ARTIFACT_ENV") != "production":
        return f"ARTIFACT_ENV is {c.get('ARTIFACT_ENV')!r}; set it to production"
    return None


def _debug(c: Mapping[str, Any]) -> str | None:
    return "debug mode is on (FLASK_DEBUG); turn it off" if c.get("DEBUG") else None


def _secret(c: Mapping[str, Any]) -> str | None:
    secret = str(c.get("SECRET_KEY") or "")
    if secret.strip().lower() in KNOWN_DEFAULT_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        return (
            f"ARTIFACT_SECRET_KEY is missing, a known default or shorter than "
            f"{MIN_SECRET_LENGTH} characters"
        )
    if c.get("ARTIFACT_ENV") != "production":
        return "the secret key comes from development defaults; set ARTIFACT_SECRET_KEY"
    return None


def _cookies(c: Mapping[str, Any]) -> str | None:
    if not (c.get("SESSION_COOKIE_SECURE") and c.get("REMEMBER_COOKIE_SECURE")):
        return "session cookies are not marked Secure (they would travel over plain HTTP)"
    return None


def _database(c: Mapping[str, Any]) -> str | None:
    if str(c.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        return "the database is SQLite; set ARTIFACT_DATABASE_URL to PostgreSQL"
    return None


def _ratelimit(c: Mapping[str, Any]) -> str | None:
    if int(c.get("NODES") or 1) > 1:
        return None  # named among what is node-local (scale_checks)
    if str(c.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory"):
        return (
            "rate limits are kept in process memory (each worker counts alone); set "
            "ARTIFACT_RATELIMIT_STORAGE, e.g. redis://127.0.0.1:6379/0"
        )
    return None


def _hosts(c: Mapping[str, Any]) -> str | None:
    if not c.get("TRUSTED_HOSTS"):
        return "ARTIFACT_TRUSTED_HOSTS is not set (any Host header is accepted)"
    return None


def _base_url(c: Mapping[str, Any]) -> str | None:
    if not str(c.get("BASE_URL") or "").startswith("https://"):
        return (
            "ARTIFACT_BASE_URL is not an https:// URL (links in e-mails would follow the "
            "request's Host header)"
        )
    return None


def _mail(c: Mapping[str, Any]) -> str | None:
    if not c.get("SMTP_HOST"):
        return "ARTIFACT_SMTP_HOST is not set: verification and reset mail would only be printed"
    if not c.get("SMTP_STARTTLS") and c.get("SMTP_PASSWORD"):
        return "ARTIFACT_SMTP_STARTTLS is off while an SMTP password is set"
    return None


def _hsts(c: Mapping[str, Any]) -> str | None:
    if int(c.get("HSTS_SECONDS") or 0) < 15552000:
        return "HSTS is off or shorter than 180 days (ARTIFACT_HSTS_SECONDS)"
    return None


def _limits(c: Mapping[str, Any]) -> str | None:
    if not c.get("MAX_CONTENT_LENGTH") or not c.get("MAX_FORM_MEMORY_SIZE"):
        return "request size limits are off (MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE)"
    return None


def _data_dir(c: Mapping[str, Any]) -> str | None:
    path = Path(str(c.get("DATA_DIR", "")))
    if not path.exists():
        return None  # created by `flask init` with the process umask
    loose = [p.name for p in (path, *path.glob("*key*")) if p.stat().st_mode & stat.S_IRWXO]
    if loose:
        return f"the data directory gives other users access to: {', '.join(loose)}"
    return None


def _scanning(c: Mapping[str, Any]) -> str | None:
    if not c.get("CLAMAV_SOCKET"):
        return (
            "virus scanning is off: uploads are stored unscanned; set ARTIFACT_CLAMAV_SOCKET "
            "to clamd's socket (a path or tcp://host:port)"
        )
    return None


def _witness(c: Mapping[str, Any]) -> str | None:
    """The witness anchors the audit trail outside the database; inside the data directory it
    shares the fate of the database's disk and of whoever can write there."""
    witness = str(c.get("AUDIT_WITNESS") or "")
    if not witness or witness.startswith("syslog"):
        return None
    data_dir = Path(str(c.get("DATA_DIR", ""))).resolve()
    place = Path(witness).resolve()
    if place == data_dir or data_dir in place.parents:
        return (
            f"the audit witness ({witness}) is inside the data directory: put it on another "
            "filesystem that the app can only append to, or use ARTIFACT_AUDIT_WITNESS=syslog://HOST"
        )
    return None


CHECKS: tuple[Check, ...] = (
    _env,
    _debug,
    _secret,
    _cookies,
    _database,
    _ratelimit,
    _hosts,
    _base_url,
    _mail,
    _hsts,
    _limits,
    _data_dir,
    _scanning,
    _witness,
)


def deploy_problems(config: Mapping[str, Any]) -> list[str]:
    found = [problem for check in CHECKS if (problem := check(config)) is not None]
    return found + node_local_problems(config)
