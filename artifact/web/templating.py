"""Jinja globals: the policy as ``can(action, obj)``, so templates hide what users may not do."""

from __future__ import annotations

from typing import Any

from flask import Flask

from artifact import policy
from artifact.web.security import current_caller


def can(action: str, obj: Any = None) -> bool:
    return policy.decide(current_caller(), action, obj).allowed


def init_app(app: Flask) -> None:
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["artifact_env"] = app.config["ARTIFACT_ENV"]
