"""The JSON API under /api/v1 (Bearer token or browser session with CSRF)."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")

from artifact.web.api import (  # noqa: E402,F401  (routes register on import)
    agreements,
    audit,
    evidence,
    frameworks,
    me,
    openapi,
    reports,
    search,
)
