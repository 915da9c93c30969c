"""Links that pages of several features build: checked ``next`` targets, and where a gated
download sends the user."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a relative path on this site, else None (no open redirects)."""
    if not target or len(target) > 2000:
        return None
    if any(ord(c) < 32 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def terms_page_url(agreement_id: str, next_path: str | None = None) -> str:
    """Where a gated download sends the user: the agreement with its accept form, which
    continues to ``next_path`` (a path on this site) once accepted."""
    return url_for("agreements.show", agreement_id=agreement_id, next=safe_next(next_path))
