"""The JSON shapes of requests and comments (the API's and the pages')."""

from __future__ import annotations

from datetime import date
from typing import Any

from artifact.models import EngagementRequest, RequestComment
from artifact.models.engagements import REQUEST_STATUS_LABELS


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def comment_json(comment: RequestComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "author": comment.author.email if comment.author else None,
        "author_name": (comment.author.name or comment.author.email) if comment.author else None,
        "kind": comment.kind,
        "body": comment.body,
        "created_at": comment.created_at.isoformat(),
    }


def request_json(request: EngagementRequest, today: date, *, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": request.id,
        "number": request.number,
        "title": request.title,
        "description": request.description,
        "requirements": list(request.requirement_refs or []),
        "due_on": _day(request.due_on),
        "sample_size": request.sample_size,
        "status": request.status,
        "status_label": REQUEST_STATUS_LABELS.get(request.status, request.status),
        "overdue": request.is_overdue(today),
        "owner": request.owner.email if request.owner else None,
        "created_by": request.created_by.email if request.created_by else None,
        "created_at": request.created_at.isoformat(),
        "updated_at": request.updated_at.isoformat(),
        "evidence": [
            {
                "evidence_id": a.evidence_id,
                "title": a.evidence.title,
                "version": a.version.number,
                "sha256": a.version.sha256,
                "attached_at": a.attached_at.isoformat(),
            }
            for a in request.attachments
        ],
        "comments": len(request.comments),
    }
    if full:
        body["comments"] = [comment_json(c) for c in request.comments]
    return body
