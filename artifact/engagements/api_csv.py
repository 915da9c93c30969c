"""The request list as CSV through the API: export, and an import that stores every row or
none (its part of ``/api/v1``; described in ``openapi_csv``)."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.wrappers import Response

from artifact.engagements import services as engagements
from artifact.engagements.services import csv_io
from artifact.extensions import db
from artifact.kernel.errors import UnsupportedType
from artifact.models.base import utcnow
from artifact.web.access import require_per_object
from artifact.web.files import CSV, file_response
from artifact.web.input_guard import large_body
from artifact.web.json_api import api
from artifact.web.security import current_caller


@api.get("/engagements/<engagement_id>/requests.csv")
@require_per_object("engagement.view")
def export_requests_csv(engagement_id: str) -> Response:
    """The request list as CSV (the columns auditors exchange)."""
    filename, text = csv_io.export_requests(db.session, current_caller(), engagement_id)
    return file_response(text.encode("utf-8"), filename=filename, content_type=CSV)


@api.route(
    "/engagements/<engagement_id>/requests/import",
    methods=["OPTIONS"],
    provide_automatic_options=False,
)
def import_requests_csv_options(engagement_id: str) -> Response:
    """What the import path allows. Its own answer: the automatic one would also count the
    methods of ``/requests/<request_id>``, whose pattern the path matches too."""
    return Response(status=200, headers={"Allow": "OPTIONS, POST"})


@api.post("/engagements/<engagement_id>/requests/import", provide_automatic_options=False)
@large_body(csv_io.MAX_BYTES)
@require_per_object("engagement.request.create")
def import_requests_csv(engagement_id: str) -> tuple[dict[str, Any], int]:
    """Add the requests of a CSV body (``text/csv``); one bad row and nothing is stored."""
    if request.mimetype != "text/csv":
        raise UnsupportedType("send the request list as text/csv")
    result = csv_io.import_requests(
        db.session, current_caller(), engagement_id, request.get_data(cache=False)
    )
    today = utcnow().date()
    items = [engagements.request_json(r, today) for r in result.created]
    return {"items": items, "total": len(items), "unchanged": result.unchanged}, 201
