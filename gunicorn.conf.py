"""gunicorn settings for Artifact (``make serve``: ``gunicorn -c gunicorn.conf.py app:app``).

Tunables come from ARTIFACT_* variables (artifact/config.py ``serving_settings``): ARTIFACT_BIND,
ARTIFACT_WORKERS, ARTIFACT_WORKER_TIMEOUT, ARTIFACT_ACCESS_LOG. In production, more than one
worker with the default memory:// ARTIFACT_RATELIMIT_STORAGE is refused right here (each worker
would count sign-ins alone). The app itself refuses to start in production without a proper
ARTIFACT_SECRET_KEY, ARTIFACT_BASE_URL and ARTIFACT_TRUSTED_HOSTS; with ``preload_app`` that
refusal happens once, in the master, with the message, before any worker starts."""

from artifact.config import serving_settings
from artifact.infra.serving import ACCESS_LOG_FORMAT

_settings = serving_settings()

wsgi_app = "app:app"
bind = _settings["bind"]
workers = _settings["workers"]
worker_class = "sync"
timeout = _settings["timeout"]
graceful_timeout = 30
keepalive = 5
preload_app = True
# No runtime control socket (gunicornc): nothing listens that the operator did not ask for.
control_socket_disable = True
# No periodic worker restarts (max_requests): each one stalls a worker's share of requests
# (p99 went from 8 ms to 140 ms in bench/pages.py). If a leak ever shows, set
# GUNICORN_CMD_ARGS="--max-requests 20000 --max-requests-jitter 2000".
# Request line and header limits (gunicorn's defaults, stated).
limit_request_line = 4094
limit_request_fields = 100
# Logs: errors to standard error; the access log without query strings, path tokens or
# credentials (artifact.infra.serving.RedactingLogger), whatever the format asks for.
errorlog = "-"
loglevel = "info"
accesslog = _settings["accesslog"]
access_log_format = ACCESS_LOG_FORMAT
logger_class = "artifact.infra.serving.RedactingLogger"
# X-Forwarded-Proto is believed only from the reverse proxy on this host; the client address is
# the app's business (ARTIFACT_TRUSTED_PROXIES, arriving with the throttling work).
forwarded_allow_ips = "127.0.0.1,::1"
proxy_allow_ips = "127.0.0.1,::1"


def post_fork(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    """A forked worker must not share database connections with the master (preload_app)."""
    from artifact.extensions import db

    flask_app = server.app.wsgi()
    with flask_app.app_context():
        db.engine.dispose(close=False)
