"""Production serving helpers for gunicorn (see gunicorn.conf.py).

The access log must not keep secrets: query strings can carry tokens, some paths carry
single-use tokens (password reset, e-mail verification), and headers carry cookies and API
tokens. ``RedactingLogger`` removes them whatever ``access_log_format`` asks for."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
# Paths whose last segment is a secret (routes of the identity pages).
SECRET_PATHS = re.compile(r"^(/reset/|/verify-email/)[^/?#]+")
# Header atoms that are never logged, and those that hold a URL (logged without its query).
SECRET_HEADERS = frozenset(
    {"{cookie}i", "{authorization}i", "{proxy-authorization}i", "{x-api-key}i", "{set-cookie}o"}
)
URL_HEADERS = frozenset({"{referer}i", "{location}o", "{content-location}o"})
# The only WSGI environ atoms (``%({name}e)s``) that may be logged; any other logs as redacted.
SAFE_ENVIRON = frozenset(
    {
        "{remote_addr}e",
        "{request_method}e",
        "{server_protocol}e",
        "{server_name}e",
        "{server_port}e",
        "{http_user_agent}e",
        "{http_x_forwarded_for}e",
        "{http_x_request_id}e",
    }
)
# Everything but the method, a redacted path, protocol, status, size, user agent and time.
ACCESS_LOG_FORMAT = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(a)s" %(M)sms'


def redact_target(target: str | None) -> str:
    """A request target or referrer without its query string, fragment or path secrets."""
    if not target:
        return "-"
    without_query = target.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = without_query.partition("://")
    if sep:  # an absolute URL (a referrer): redact its path part
        host, slash, path = rest.partition("/")
        return f"{scheme}://{host}{redact_target(slash + path) if slash else ''}"
    return SECRET_PATHS.sub(lambda m: m.group(1) + REDACTED, without_query)


class RedactingLogger(Logger):
    """gunicorn's logger with secrets taken out of every access-log atom."""

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        raw_path = environ.get("RAW_URI") or environ.get("PATH_INFO") or "/"
        atoms["r"] = (
            f"{environ.get('REQUEST_METHOD', '-')} {redact_target(raw_path)} "
            f"{environ.get('SERVER_PROTOCOL', '-')}"
        )
        atoms["U"] = redact_target(environ.get("PATH_INFO"))
        atoms["q"] = "-"
        atoms["f"] = redact_target(environ.get("HTTP_REFERER"))
        for key, value in atoms.items():
            if key in SECRET_HEADERS or (key.endswith("}e") and key not in SAFE_ENVIRON):
                atoms[key] = REDACTED
            elif key in URL_HEADERS:
                atoms[key] = redact_target(str(value))
        return atoms
