"""Frameworks and their requirements."""

from __future__ import annotations

from typing import Any

from artifact.extensions import db
from artifact.frameworks import services as frameworks
from artifact.web.access import require
from artifact.web.json_api import api
from artifact.web.security import current_caller


@api.get("/frameworks")
@require("framework.view")
def list_frameworks() -> dict[str, Any]:
    """Every framework and regulation."""
    items = [
        {
            "id": f.id,
            "key": f.key,
            "title": f.title,
            "version": f.version,
            "category": f.category,
            "source": f.source,
            "imported_at": f.imported_at.isoformat(),
            "requirements": count,
        }
        for f, count in frameworks.list_frameworks(db.session, current_caller())
    ]
    return {"items": items, "total": len(items)}


@api.get("/frameworks/<framework_id>/requirements")
@require("framework.view")
def list_requirements(framework_id: str) -> dict[str, Any]:
    """All requirements of one framework, complete and in document order (not paginated)."""
    framework = frameworks.get_framework(db.session, current_caller(), framework_id=framework_id)
    requirements = frameworks.requirements_of(db.session, current_caller(), framework)
    refs = {r.id: r.ref for r in requirements}
    items = [
        {
            "id": r.id,
            "ref": r.ref,
            "name": f"{framework.key}:{r.ref}",
            "title": r.title,
            "parent": refs.get(r.parent_id) if r.parent_id else None,
            "kind": r.kind,
            "withdrawn": r.withdrawn,
        }
        for r in requirements
    ]
    return {"items": items, "total": len(items)}
