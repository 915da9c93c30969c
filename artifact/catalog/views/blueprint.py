"""The catalog pages' blueprint, shared by the browsing and the staff views."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("catalog", __name__, url_prefix="/catalog")
