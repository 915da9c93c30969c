"""Where the shared web layer reports the security events it sees (an object refused to a
signed-in caller, a rate-limit breach). The audit feature installs the recorders (see
``create_app``), so the web layer needs to know nothing of the trail."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from flask_limiter import RequestLimit

DenialRecorder = Callable[[int, str], None]
BreachRecorder = Callable[[RequestLimit], None]
_DENIAL = "artifact.record_denial"
_BREACH = "artifact.record_breach"


def install(app: Flask, *, denial: DenialRecorder, breach: BreachRecorder) -> None:
    app.extensions[_DENIAL] = denial
    app.extensions[_BREACH] = breach


def report_denial(status: int, reason: str) -> None:
    recorder: DenialRecorder | None = current_app.extensions.get(_DENIAL)
    if recorder is not None:
        recorder(status, reason)


def report_breach(limit: RequestLimit) -> None:
    recorder: BreachRecorder | None = current_app.extensions.get(_BREACH)
    if recorder is not None:
        recorder(limit)
