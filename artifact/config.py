"""Settings: defaults, ARTIFACT_* environment variables and validation.

This is the only module that reads ``os.environ``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_FOLDER = PROJECT_ROOT / "templates"
DOCUMENTS_FOLDER = PROJECT_ROOT / "documents"
ENVIRONMENTS = ("production", "development", "testing")

# Secrets that have shipped in tutorials and sample configs; never accepted outside development.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "",
        "dev",
        "development",
        "secret",
        "secret-key",
        "changeme",
        "change-me",
        "please-change-me",
        "your-secret-key",
        "super-secret",
        "supersecret",
        "artifact",
        "test",
        "testing",
    }
)
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """The settings cannot run the app; the message says what to set."""


def _env(environ: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = environ.get(f"ARTIFACT_{name}")
    return value if value not in (None, "") else default


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = _env(environ, name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"ARTIFACT_{name} must be an integer, got {raw!r}") from exc


def _secret_key(env: str, data_dir: Path, configured: str | None) -> str:
    if configured is not None and configured.strip().lower() not in KNOWN_DEFAULT_SECRETS:
        if env == "production" and len(configured) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"ARTIFACT_SECRET_KEY is too short ({len(configured)} characters); set it to at "
                f"least {MIN_SECRET_LENGTH} random characters, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        return configured
    if env == "testing":
        return secrets.token_urlsafe(48)
    if env == "development":
        # A per-data-directory random key, so a demo never runs on a guessable secret.
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_file = data_dir / "dev-secret-key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return key_file.read_text().strip()
    what = "missing" if configured is None else "a known default value"
    raise ConfigError(
        f"ARTIFACT_SECRET_KEY is {what}. Set ARTIFACT_SECRET_KEY to at least "
        f"{MIN_SECRET_LENGTH} random characters (e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
        "or set ARTIFACT_ENV=development for a local demo."
    )


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _env(environ, name)
    if raw is None:
        return default
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"ARTIFACT_{name} must be true or false, got {raw!r}")


def _list(environ: Mapping[str, str], name: str) -> list[str] | None:
    raw = _env(environ, name)
    if raw is None:
        return None
    return [item.strip() for item in raw.split(",") if item.strip()]


def _storage_options(storage: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {"wrap_exceptions": True}
    if (storage or "").startswith(("redis://", "rediss://")):
        options.update(socket_connect_timeout=2, socket_timeout=2)
    return options


def _identity_settings(environ: Mapping[str, str], env: str) -> dict[str, Any]:
    """Audit, throttling, mail and response-hardening settings (issue 7)."""
    return {
        "AUDIT_CHECKPOINT_EVERY": _int(environ, "AUDIT_CHECKPOINT_EVERY", 100),
        "AUDIT_CHECKPOINT_MINUTES": _int(environ, "AUDIT_CHECKPOINT_MINUTES", 15),
        "RATELIMIT_STORAGE_URI": _env(environ, "RATELIMIT_STORAGE", "memory://"),
        # A store that does not answer raises limits' StorageError (a 503, web/errors.py), and
        # does so quickly.
        "RATELIMIT_STORAGE_OPTIONS": _storage_options(_env(environ, "RATELIMIT_STORAGE")),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Keys in a shared Redis start with this (several deployments, or test runs, on one).
        "RATELIMIT_KEY_PREFIX": _env(environ, "RATELIMIT_KEY_PREFIX", ""),
        "RATELIMIT_SIGN_IN": _env(environ, "RATELIMIT_SIGN_IN", "30 per minute; 300 per hour"),
        "RATELIMIT_RESET": _env(environ, "RATELIMIT_RESET", "5 per minute; 30 per hour"),
        # Reset mails to one address, whoever asks and from wherever (past it: no mail, the
        # same neutral answer).
        "RATELIMIT_RESET_ADDRESS": _env(
            environ, "RATELIMIT_RESET_ADDRESS", "3 per 15 minutes; 10 per day"
        ),
        # Re-entering the password on the account pages (change password, second factor).
        "RATELIMIT_REAUTH": _env(environ, "RATELIMIT_REAUTH", "5 per minute; 20 per hour"),
        "RATELIMIT_DOWNLOADS": _env(environ, "RATELIMIT_DOWNLOADS", "60 per hour; 500 per day"),
        "SIGN_IN_FREE_FAILURES": _int(environ, "SIGN_IN_FREE_FAILURES", 5),
        "SIGN_IN_MAX_DELAY_SECONDS": _int(environ, "SIGN_IN_MAX_DELAY_SECONDS", 900),
        "TRUSTED_PROXIES": _int(environ, "TRUSTED_PROXIES", 0),
        "TRUSTED_HOSTS": _list(environ, "TRUSTED_HOSTS"),
        "BASE_URL": (_env(environ, "BASE_URL") or "").rstrip("/") or None,
        "SMTP_HOST": _env(environ, "SMTP_HOST"),
        "SMTP_PORT": _int(environ, "SMTP_PORT", 587),
        "SMTP_USER": _env(environ, "SMTP_USER"),
        "SMTP_PASSWORD": _env(environ, "SMTP_PASSWORD"),
        "SMTP_FROM": _env(environ, "SMTP_FROM", "artifact@localhost"),
        "SMTP_STARTTLS": _bool(environ, "SMTP_STARTTLS", True),
        # Show visitors the restricted and customers-only reports as locked cards (signed-in
        # users always see the restricted ones they cannot open as locked).
        "PUBLIC_LISTING": _bool(environ, "PUBLIC_LISTING", False),
        # Self sign-up (customers, confirmed by an e-mailed link); off: /signup is 404.
        "SIGNUP": _bool(environ, "SIGNUP", True),
        "SIGNUP_BLOCK_FREEMAIL": _bool(environ, "SIGNUP_BLOCK_FREEMAIL", False),
        "SMTP_TIMEOUT": _int(environ, "SMTP_TIMEOUT", 10),
        "MAX_FORM_MEMORY_SIZE": _int(environ, "MAX_FORM_MEMORY_KB", 500) * 1024,
        "MAX_FORM_PARTS": _int(environ, "MAX_FORM_PARTS", 1000),
        "HSTS_SECONDS": 0 if env == "development" else _int(environ, "HSTS_SECONDS", 31536000),
    }


def _webhook_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Outgoing webhooks: the timeout of one try, tries per delivery, the backoff between them,
    and the failed tries in a row after which an endpoint is disabled."""
    return {
        "WEBHOOK_TIMEOUT": _int(environ, "WEBHOOK_TIMEOUT", 10),
        "WEBHOOK_MAX_ATTEMPTS": _int(environ, "WEBHOOK_MAX_ATTEMPTS", 8),
        "WEBHOOK_BACKOFF_SECONDS": _int(environ, "WEBHOOK_BACKOFF_SECONDS", 30),
        "WEBHOOK_BACKOFF_MAX_SECONDS": _int(environ, "WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600),
        "WEBHOOK_DISABLE_AFTER": _int(environ, "WEBHOOK_DISABLE_AFTER", 15),
    }


def _saml_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """SAML sign-in: the clock skew allowed on an assertion's time window, how long a sign-in
    may take at the IdP, how long fetched IdP metadata is kept, and which AuthnContext classes
    count as multi-factor (comma-separated; empty: the built-in list of artifact/sso/saml.py)."""
    return {
        "SAML_CLOCK_SKEW": _int(environ, "SAML_CLOCK_SKEW_SECONDS", 60),
        "SAML_REQUEST_SECONDS": _int(environ, "SAML_REQUEST_SECONDS", 600),
        "SAML_METADATA_TTL": _int(environ, "SAML_METADATA_TTL_SECONDS", 3600),
        "SAML_METADATA_TIMEOUT": _int(environ, "SAML_METADATA_TIMEOUT", 10),
        "SAML_MFA_CONTEXTS": _list(environ, "SAML_MFA_CONTEXTS"),
    }


def _queue_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The job queue (issue 14): SQLite in the data directory unless ARTIFACT_QUEUE_URL names a
    Redis server (redis:// or rediss://); the worker's threads and the retry schedule."""
    url = (_env(environ, "QUEUE_URL") or "").strip() or None
    if url is not None and not url.startswith(("redis://", "rediss://", "sqlite:///")):
        raise ConfigError(
            "ARTIFACT_QUEUE_URL must be redis://HOST:PORT/DB, rediss://... or sqlite:///PATH, "
            f"got a {url.split(':', 1)[0]!r} URL"
        )
    return {
        "QUEUE_URL": url,
        "QUEUE_WORKERS": _int(environ, "QUEUE_WORKERS", 2),
        # A failed job is tried again after 10 s, 20 s, 40 s, ... (8 retries: about 42 minutes).
        "QUEUE_RETRIES": _int(environ, "QUEUE_RETRIES", 8),
        "QUEUE_RETRY_DELAY": _int(environ, "QUEUE_RETRY_DELAY_SECONDS", 10),
        # Outbox events older than this that no job has processed are taken by the sweep.
        "OUTBOX_GRACE_SECONDS": _int(environ, "OUTBOX_GRACE_SECONDS", 30),
    }


SEARCH_BACKENDS = ("whoosh", "tantivy", "postgres")


def _search_backend(environ: Mapping[str, str]) -> str:
    """whoosh (embedded default) or tantivy (for large catalogs), whose index is in DATA_DIR;
    postgres (several app servers), whose index is in the PostgreSQL database."""
    name = (_env(environ, "SEARCH_BACKEND", "whoosh") or "whoosh").strip().lower()
    if name not in SEARCH_BACKENDS:
        raise ConfigError(
            f"ARTIFACT_SEARCH_BACKEND must be one of {', '.join(SEARCH_BACKENDS)}, got {name!r}"
        )
    return name


def _check_search_database(config: Mapping[str, Any]) -> None:
    if config["SEARCH_BACKEND"] == "postgres" and not str(
        config["SQLALCHEMY_DATABASE_URI"]
    ).startswith("postgresql"):
        raise ConfigError(
            "ARTIFACT_SEARCH_BACKEND=postgres keeps the search index in the database: set "
            "ARTIFACT_DATABASE_URL to PostgreSQL (postgresql://...), or use whoosh or tantivy "
            "with SQLite"
        )


def _audit_witness(environ: Mapping[str, str], data_dir: Path) -> str:
    """Where signed checkpoints are also written, outside the database: a directory (default
    ``<data dir>/audit-witness``), ``syslog``, ``syslog://HOST[:PORT]`` or
    ``s3://bucket/prefix`` (one object per checkpoint)."""
    value = _env(environ, "AUDIT_WITNESS") or str(data_dir / "audit-witness")
    if value.startswith("s3://"):
        _s3_url("AUDIT_WITNESS", value)
    elif "://" in value and not value.startswith("syslog://"):
        raise ConfigError(
            "ARTIFACT_AUDIT_WITNESS must be a directory, syslog, syslog://HOST or "
            f"s3://bucket/prefix, got {value!r}"
        )
    return value


def _s3_url(name: str, value: str) -> None:
    bucket, _, prefix = value[len("s3://") :].partition("/")
    if not (3 <= len(bucket) <= 63) or not all(c.isalnum() or c in "-." for c in bucket):
        raise ConfigError(f"ARTIFACT_{name} names no valid bucket: {value!r} (s3://bucket/prefix)")
    if ".." in prefix.split("/"):
        raise ConfigError(f"the prefix of ARTIFACT_{name} must not contain '..', got {value!r}")


KEK_PROVIDERS = ("file", "pkcs11")


def _scale_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Where blobs and keys live, and how many app servers share the database (issue 17).
    Region and credentials of the S3 store come from boto3's own chain (AWS_* settings, a
    profile, an instance role), never from here."""
    store = (_env(environ, "BLOB_STORE", "local") or "local").strip()
    if store.startswith("s3://"):
        _s3_url("BLOB_STORE", store)
    elif store != "local":
        raise ConfigError(f"ARTIFACT_BLOB_STORE must be local or s3://bucket/prefix, got {store!r}")
    provider = (_env(environ, "KEK_PROVIDER", "file") or "file").strip().lower()
    if provider not in KEK_PROVIDERS:
        raise ConfigError(
            f"ARTIFACT_KEK_PROVIDER must be one of {', '.join(KEK_PROVIDERS)}, got {provider!r}"
        )
    pkcs11 = {
        "PKCS11_MODULE": _env(environ, "PKCS11_MODULE"),
        "PKCS11_TOKEN": _env(environ, "PKCS11_TOKEN"),
        "PKCS11_PIN": _env(environ, "PKCS11_PIN"),
    }
    if provider == "pkcs11":
        missing = [f"ARTIFACT_{name}" for name, value in pkcs11.items() if not value]
        if missing:
            raise ConfigError(
                f"ARTIFACT_KEK_PROVIDER=pkcs11 needs {', '.join(missing)} (the module's path, "
                "the token's label and the user PIN)"
            )
    nodes = _int(environ, "NODES", 1)
    if nodes < 1:
        raise ConfigError(f"ARTIFACT_NODES must be at least 1, got {nodes}")
    return {
        "BLOB_STORE": store,
        "S3_ENDPOINT_URL": (_env(environ, "S3_ENDPOINT_URL") or "").strip() or None,
        "KEK_PROVIDER": provider,
        **pkcs11,
        "NODES": nodes,
    }


def _check_links_and_hosts(config: Mapping[str, Any]) -> None:
    """Production builds e-mailed links from ARTIFACT_BASE_URL, never from the Host header,
    and answers only the host names it is told."""
    base = config.get("BASE_URL")
    parts = urlsplit(base or "")
    if not base or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            "ARTIFACT_BASE_URL is missing or not an http(s) URL; set it to the address users "
            "reach the app at (e.g. https://trust.example.com): links in e-mails are built from "
            "it, never from the request's Host header."
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"ARTIFACT_BASE_URL must not carry a query or fragment, got {base!r}")
    if not config.get("TRUSTED_HOSTS"):
        raise ConfigError(
            "ARTIFACT_TRUSTED_HOSTS is missing; set it to the comma-separated host names the "
            f"app answers to (e.g. {parts.hostname}): requests for any other Host are refused."
        )


def check_limiter_storage(env: str, storage: str | None, workers: int) -> None:
    """Sign-in limits kept in one process's memory do not hold across several processes."""
    if env == "production" and workers > 1 and (storage or "memory://").startswith("memory"):
        raise ConfigError(
            f"ARTIFACT_RATELIMIT_STORAGE is memory:// while {workers} worker processes would "
            "run: each would count sign-in attempts alone. Set ARTIFACT_RATELIMIT_STORAGE to a "
            "shared store (e.g. redis://127.0.0.1:6379/0) or ARTIFACT_WORKERS=1."
        )


def load_config(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Build the Flask config from defaults, the environment and test overrides."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    env = overrides.get("ARTIFACT_ENV") or _env(environ, "ENV", "production")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"ARTIFACT_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    data_dir = Path(
        overrides.get("DATA_DIR") or _env(environ, "DATA_DIR") or PROJECT_ROOT / "instance"
    ).resolve()
    database_url: str = (
        overrides.get("SQLALCHEMY_DATABASE_URI")
        or _env(environ, "DATABASE_URL")
        or f"sqlite:///{data_dir / 'artifact.db'}"
    )
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    secret = overrides.get("SECRET_KEY") or _secret_key(env, data_dir, _env(environ, "SECRET_KEY"))
    relaxed = env in ("development", "testing")
    config: dict[str, Any] = {
        "ARTIFACT_ENV": env,
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": secret,
        "TESTING": env == "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A server connection can drop (restart, failover): one idle in the pool for
        # 10 seconds is checked before use (infra.dbping), not one used a moment ago.
        # hide_parameters: an error logged with its SQL never prints the values (e-mails,
        # token hashes, whatever a caller sent).
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "hide_parameters": True,
        },
        # Production (the only mode with Secure cookies) uses the __Host- prefix: the browser
        # keeps the cookie only if it is Secure, for Path=/ and without Domain, so no sibling
        # host or plain-HTTP page can plant or overwrite it.
        "SESSION_COOKIE_NAME": "artifact_session" if relaxed else "__Host-artifact_session",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The cookie keeps the expiry set at sign-in (the absolute timeout) instead of being
        # signed and sent again on every response; idle and absolute timeouts are enforced on
        # the server (services/sessions.py), whatever the cookie says.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_SECURE": not relaxed,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": not relaxed,
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=_int(environ, "SESSION_IDLE_MINUTES", 30)),
        "SESSION_ABSOLUTE_TIMEOUT": timedelta(hours=_int(environ, "SESSION_ABSOLUTE_HOURS", 12)),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int(environ, "SESSION_ABSOLUTE_HOURS", 12)),
        "WTF_CSRF_CHECK_DEFAULT": False,  # checked in a before_request that skips Bearer calls
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "MAX_CONTENT_LENGTH": _int(environ, "MAX_UPLOAD_MB", 100) * 1024 * 1024,
        # Largest framework or crosswalk file `frameworks import` reads (the 800-53 catalog: 3 MB).
        "FRAMEWORK_IMPORT_MAX_BYTES": _int(environ, "FRAMEWORK_IMPORT_MAX_BYTES", 64 * 1024 * 1024),
        # The largest report file; requests past MAX_CONTENT_LENGTH are refused before this.
        "REPORT_MAX_BYTES": _int(environ, "MAX_REPORT_MB", 50) * 1024 * 1024,
        # Evidence files: size, image pixels (decompression bombs), office zip containers.
        "EVIDENCE_MAX_BYTES": _int(environ, "MAX_EVIDENCE_MB", 50) * 1024 * 1024,
        "EVIDENCE_MAX_PIXELS": _int(environ, "EVIDENCE_MAX_PIXELS", 40_000_000),
        "EVIDENCE_ZIP_MAX_ENTRIES": _int(environ, "EVIDENCE_ZIP_MAX_ENTRIES", 2000),
        "EVIDENCE_ZIP_MAX_BYTES": _int(environ, "EVIDENCE_ZIP_MAX_MB", 100) * 1024 * 1024,
        "EVIDENCE_ZIP_MAX_PART_BYTES": _int(environ, "EVIDENCE_ZIP_MAX_PART_MB", 50) * 1024 * 1024,
        # Every upload (report versions, evidence) is scanned by clamd when this is set (a unix
        # socket path or tcp://host:port); while it is set, a scanner that is down refuses them.
        "CLAMAV_SOCKET": (_env(environ, "CLAMAV_SOCKET") or "").strip() or None,
        "CLAMAV_TIMEOUT": _int(environ, "CLAMAV_TIMEOUT", 60),
        # Storage quotas over every stored version, all uploaders and per uploader; 0 is none.
        "QUOTA_TOTAL_BYTES": _int(environ, "QUOTA_TOTAL_MB", 0) * 1024 * 1024,
        "QUOTA_USER_BYTES": _int(environ, "QUOTA_USER_MB", 0) * 1024 * 1024,
        "QUOTA_TOTAL_FILES": _int(environ, "QUOTA_TOTAL_FILES", 0),
        "QUOTA_USER_FILES": _int(environ, "QUOTA_USER_FILES", 0),
        # argon2id cost; the defaults are argon2-cffi's RFC 9106 "low memory" profile.
        "ARGON2_TIME_COST": _int(environ, "ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_COST": _int(environ, "ARGON2_MEMORY_KIB", 65536),
        "ARGON2_PARALLELISM": _int(environ, "ARGON2_PARALLELISM", 4),
        "SESSION_TOUCH_SECONDS": 60,
    }
    config.update(_identity_settings(environ, env))
    config.update(_webhook_settings(environ))
    config.update(_queue_settings(environ))
    config.update(_saml_settings(environ))
    config["SEARCH_BACKEND"] = _search_backend(environ)
    config["AUDIT_WITNESS"] = _audit_witness(environ, data_dir)
    config.update(_scale_settings(environ))
    if env == "testing":
        # Cheap hashes keep the suite fast; still argon2id.
        config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=1024, ARGON2_PARALLELISM=1)
    config.update(overrides)
    _check_search_database(config)
    if env == "production":
        _check_links_and_hosts(config)
        if _env(environ, "WORKERS") is not None:
            check_limiter_storage(env, config["RATELIMIT_STORAGE_URI"], _int(environ, "WORKERS", 1))
    return config


def prepare_data_dir(config: Mapping[str, Any]) -> None:
    """The data directory (0700) and an SQLite database file (0600) are private from the moment
    they exist, in every mode (SQLite itself would create the file, and its journals, with the
    process umask, typically 0644)."""
    Path(config["DATA_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    url = str(config["SQLALCHEMY_DATABASE_URI"])
    if not url.startswith("sqlite:///"):
        return
    name = url[len("sqlite:///") :].split("?", 1)[0]
    if not name or name == ":memory:":
        return
    path = Path(name)
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process made it first
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def serving_settings(
    environ: Mapping[str, str] | None = None, cpu_count: int | None = None
) -> dict[str, Any]:
    """gunicorn settings for ``make serve`` (read by gunicorn.conf.py).

    ARTIFACT_BIND (default 127.0.0.1:8000: behind a reverse proxy on the same host),
    ARTIFACT_WORKERS (default 2 x CPUs + 1, at most 12), ARTIFACT_WORKER_TIMEOUT seconds
    (default 60; the proxy's read timeout should match), ARTIFACT_ACCESS_LOG (default ``-``,
    standard output; a path writes a file; ``off`` disables it). In production, more than one
    worker needs a shared ARTIFACT_RATELIMIT_STORAGE (ConfigError otherwise)."""
    environ = os.environ if environ is None else environ
    cpus = cpu_count or os.cpu_count() or 1
    workers = _int(environ, "WORKERS", min(2 * cpus + 1, 12))
    if workers < 1:
        raise ConfigError(f"ARTIFACT_WORKERS must be at least 1, got {workers}")
    env = _env(environ, "ENV", "production") or "production"
    check_limiter_storage(env, _env(environ, "RATELIMIT_STORAGE", "memory://"), workers)
    access_log = _env(environ, "ACCESS_LOG", "-")
    return {
        "bind": _env(environ, "BIND", "127.0.0.1:8000"),
        "workers": workers,
        "timeout": _int(environ, "WORKER_TIMEOUT", 60),
        "accesslog": None if access_log == "off" else access_log,
    }
