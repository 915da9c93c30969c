"""Framework and regulation pages: lists, requirement trees, regulation articles and sections."""

from __future__ import annotations

from typing import NamedTuple

from flask import Blueprint, render_template
from markupsafe import Markup

from artifact import policy
from artifact.evidence import services as evidence
from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.models.base import utcnow
from artifact.models.evidence import STATE_LABELS
from artifact.models.frameworks import FrameworkCategory
from artifact.web.access import require
from artifact.web.security import current_caller

bp = Blueprint("frameworks", __name__)


class Shown(NamedTuple):
    """What a kept page says of its framework outside its kept body."""

    id: str
    key: str
    title: str


@bp.get("/frameworks")
@require("framework.view")
def index() -> str:
    """Every framework and regulation with its requirement count: the table rendered once per
    policy generation and caller scope (framework imports bump the generation)."""
    caller = current_caller()

    def table() -> Markup:
        rows = frameworks.list_frameworks(db.session, caller)
        return Markup(render_template("frameworks/_index_table.html", rows=rows))  # noqa: S704

    shown = policy.remember_page(db.session, "frameworks", caller, table)
    return render_template("frameworks/index.html", table=shown)


@bp.get("/frameworks/<framework_id>")
@require("framework.view")
def detail(framework_id: str) -> str:
    """A framework's requirement tree."""
    framework = frameworks.get_framework(db.session, current_caller(), framework_id=framework_id)
    requirements = frameworks.requirements_of(db.session, current_caller(), framework)
    return render_template(
        "frameworks/detail.html",
        framework=framework,
        requirements=requirements,
        tree=frameworks.children_by_parent(requirements),
        mappings=frameworks.framework_mappings(db.session, current_caller(), framework),
    )


@bp.get("/regulations")
@require("framework.view")
def regulations() -> str:
    """The regulations (GDPR, HIPAA, ...)."""
    rows = frameworks.list_frameworks(db.session, current_caller(), FrameworkCategory.REGULATION)
    return render_template("frameworks/regulations.html", rows=rows)


@bp.get("/regulations/<key>")
@require("framework.view")
def regulation(key: str) -> str:
    """Every article or section of a regulation, with the crosswalk mappings that exist and
    what covers it (reports the caller may see; evidence for staff). The articles' table
    (about a hundred rows for the GDPR) is rendered once per policy generation, caller scope
    and day (framework imports, mapping edits and evidence changes bump the generation too)."""
    caller = current_caller()
    today = utcnow().date()

    def page() -> tuple[Shown, Markup]:
        framework = frameworks.get_framework(db.session, caller, key=key)
        requirements = frameworks.requirements_of(db.session, caller, framework)
        mappings = frameworks.framework_mappings(db.session, caller, framework)
        coverage = evidence.framework_coverage(
            db.session, caller, framework, today, requirements, mappings
        )
        return Shown(framework.id, framework.key, framework.title), Markup(  # noqa: S704
            render_template(
                "frameworks/_regulation_body.html",
                framework=framework,
                requirements=requirements,
                parents={r.parent_id for r in requirements if r.parent_id},
                mappings=mappings,
                coverage=coverage,
                covered=coverage.by_id(),
                labels=STATE_LABELS,
            )
        )

    evidence_shown = bool(policy.decide(caller, "evidence.list"))  # as framework_coverage
    # Kept under the key asked for: stored only once it named a framework the caller may see
    # (get_framework raises NotFound before anything is kept).
    framework, shown = policy.remember_page(
        db.session, f"regulation:{key}:{today.isoformat()}", caller, page
    )
    return render_template(
        "frameworks/regulation.html", framework=framework, body=shown, show_evidence=evidence_shown
    )
