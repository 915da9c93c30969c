"""Jinja globals: the policy as ``can(action, obj)``, so templates hide what users may not do;
and the CSRF slot of page parts kept across requests."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, url_for
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


_MAX_LINKS = 1024


def link(endpoint: str) -> str:
    """``url_for(endpoint)`` for an endpoint that takes no values (the header's navigation,
    on every page): built once per app, script root (where it is mounted) and endpoint, as
    the URL map is fixed once the app serves."""
    links: dict[tuple[str, str], str] = current_app.extensions["artifact_links"]
    key = (request.script_root, endpoint)
    found = links.get(key)
    if found is None:
        if len(links) >= _MAX_LINKS:
            links.clear()
        found = links[key] = url_for(endpoint)
    return found


def init_app(app: Flask) -> None:
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["link"] = link
    app.extensions["artifact_links"] = {}
    app.jinja_env.globals["artifact_env"] = app.config["ARTIFACT_ENV"]
