"""The JSON API blueprint under /api/v1 (Bearer token or browser session with CSRF).

Each feature's ``api`` module adds its routes to it; ``create_app`` imports them."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")
