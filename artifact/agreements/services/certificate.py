"""The acceptance certificate: the record, the text hash and the full accepted text, as PDF.

Rendered from ``templates/pdf/acceptance_certificate.html`` with an autoescaping Jinja
environment of its own (no request needed), then by the sandboxed WeasyPrint renderer, so a
typed name such as ``<img src="file:///etc/passwd">`` is printed as text and fetches nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from artifact.agreements.services.text import paragraphs
from artifact.config import TEMPLATE_FOLDER
from artifact.infra.pdf.render import SafeFetcher, render_pdf

_env: Environment | None = None


def _environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(
            loader=FileSystemLoader(str(TEMPLATE_FOLDER / "pdf")),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        _env.filters["paragraphs"] = paragraphs
        _env.globals["utc"] = utc
    return _env


def certificate_html(context: dict[str, Any]) -> str:
    return _environment().get_template("acceptance_certificate.html").render(**context)


def render_certificate(context: dict[str, Any], fetcher: SafeFetcher | None = None) -> bytes:
    """``context``: acceptance, agreement, version, text_verified, terminations, generated_at."""
    return render_pdf(certificate_html(context), fetcher)


def utc(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"
