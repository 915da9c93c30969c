"""Denied access as audit events: a signed-in caller refused an object (403, or the 404 the
policy answers for what they may not see). One event per caller, endpoint and minute, so a
scanner cannot flood the trail."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from artifact.audit.services import chain as audit
from artifact.extensions import db
from artifact.kernel import uow
from artifact.web.security import current_caller


def record_denial(status: int, reason: str) -> None:
    """Record the refusal durably: the owner rolls the refused request back (its status is 403
    or 404) and keeps only this event and the request's other durable records."""
    if not current_user.is_authenticated or request.url_rule is None:
        return  # anonymous callers are sent to sign in; unknown paths are not objects
    from artifact.web.ratelimit import first_in_window

    if not first_in_window(f"denied/{current_user.id}/{request.endpoint}/{status}"):
        return
    caller = current_caller()
    # Nothing of the refused request is kept, and it cannot get in the way of this event (the
    # owner writes the durable records again after its own rollback, then commits them).
    db.session.rollback()
    # The route pattern and the ids in it, never the query string (it may carry tokens).
    endpoint = request.endpoint
    target_id = next(iter((request.view_args or {}).values()), None)
    details = {"status": status, "reason": reason, "method": request.method,
               "route": request.url_rule.rule}
    uow.durable(db.session, lambda session: audit.record(
        session, caller, "access.denied", outcome="denied", target_type=endpoint,
        target_id=target_id, details=details))
