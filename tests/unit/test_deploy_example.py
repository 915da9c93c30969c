"""deploy/nginx.conf stays in step with the app's defaults (the values it says it matches)."""

from __future__ import annotations

import re

from artifact.config import PROJECT_ROOT, load_config, serving_settings

NGINX = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text()


def _directive(name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;\n]+);", NGINX, re.M)


def test_body_size_matches_the_upload_limit() -> None:
    config = load_config({"ARTIFACT_ENV": "testing"}, environ={})
    assert _directive("client_max_body_size") == [f"{config['MAX_CONTENT_LENGTH'] >> 20}m"]


def test_upstream_and_timeouts_match_gunicorn() -> None:
    settings = serving_settings({"ARTIFACT_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0"})
    assert _directive("server") == [settings["bind"]]
    assert _directive("proxy_read_timeout") == [f"{settings['timeout']}s"]


def test_tls_hsts_and_forwarding() -> None:
    assert _directive("ssl_protocols") == ["TLSv1.2 TLSv1.3"]
    assert all(
        "max-age=63072000" in h
        for h in _directive("add_header")
        if h.startswith("Strict-Transport-Security")
    )
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in NGINX  # overwritten, not appended
    assert "$proxy_add_x_forwarded_for" not in NGINX
    assert "return 301 https://$host$request_uri;" in NGINX


def test_access_log_has_no_query_string() -> None:
    log_format = NGINX[NGINX.index("log_format artifact") :].split(";", 1)[0]
    assert "$request_uri" not in log_format
    assert "$args" not in log_format
    assert "$query_string" not in log_format
    assert "$request " not in log_format
    assert "$artifact_log_path" in log_format
