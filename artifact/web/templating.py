"""Jinja globals: the policy as ``can(action, obj)``, so templates hide what users may not do;
and the CSRF slot of page parts kept across requests."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from artifact import policy
from artifact.web.security import current_caller

# What a kept part of a page (``policy.remember_page``) holds where a form's CSRF token goes:
# each request puts its own token there (``with_csrf``). Angle brackets cannot come out of
# Jinja's escaping, so only a template can have written it.
CSRF_SLOT = Markup("<csrf-token>")  # noqa: S704  (a constant)


def can(action: str, obj: Any = None) -> bool:
    return policy.decide(current_caller(), action, obj).allowed


def with_csrf(kept: Markup) -> Markup:
    """A kept part with this request's CSRF token in its slots (none: unchanged, no token
    made)."""
    if CSRF_SLOT not in kept:
        return kept
    return Markup(kept.replace(CSRF_SLOT, generate_csrf()))  # noqa: S704  (URL-safe token)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["artifact_env"] = app.config["ARTIFACT_ENV"]
