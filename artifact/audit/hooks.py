"""How the request layer feeds the audit trail: the checkpoint settings of each unit of work
(request or command), and the durable records of refused objects and rate-limit breaches.
``create_app`` installs these; the shared web layer only reports (``artifact.web.recorders``).

Denied access is recorded for a signed-in caller refused an object (403, or the 404 the policy
answers for what they may not see), one event per caller, endpoint and minute, so a scanner
cannot flood the trail; breaches likewise once per limit and window."""

from __future__ import annotations

from flask import current_app, request
from flask_limiter import RequestLimit
from flask_login import current_user

from artifact.audit.services import chain as audit
from artifact.audit.services import signing
from artifact.extensions import db
from artifact.kernel import uow
from artifact.models.base import DbSession
from artifact.web.ratelimit import first_in_window
from artifact.web.security import current_caller


def configure_request_signing() -> None:
    """Events appended in this request sign checkpoints as the settings say (read per request,
    so a changed setting applies to the next one)."""
    configure_command_signing(db.session)


def configure_command_signing(session: DbSession) -> None:
    """The same for a command's unit of work."""
    signing.configure(session, signing.CheckpointPolicy.from_config(current_app.config))


def record_denial(status: int, reason: str) -> None:
    """Record the refusal durably: the owner rolls the refused request back (its status is 403
    or 404) and keeps only this event and the request's other durable records."""
    if not current_user.is_authenticated or request.url_rule is None:
        return  # anonymous callers are sent to sign in; unknown paths are not objects
    if not first_in_window(f"denied/{current_user.id}/{request.endpoint}/{status}"):
        return
    caller = current_caller()
    # Nothing of the refused request is kept, and it cannot get in the way of this event (the
    # owner writes the durable records again after its own rollback, then commits them).
    db.session.rollback()
    # The route pattern and the ids in it, never the query string (it may carry tokens).
    endpoint = request.endpoint
    target_id = next(iter((request.view_args or {}).values()), None)
    if isinstance(target_id, str):
        # What the caller typed: cut to the column and without NUL, which PostgreSQL refuses.
        target_id = target_id.replace("\x00", "\ufffd")[:64]
    details = {
        "status": status,
        "reason": reason,
        "method": request.method,
        "route": request.url_rule.rule,
    }
    uow.durable(
        db.session,
        lambda session: audit.record(
            session,
            caller,
            "access.denied",
            outcome="denied",
            target_type=endpoint,
            target_id=target_id,
            details=details,
        ),
    )


def record_breach(limit: RequestLimit) -> None:
    """A durable record: the refused request answers 429, which its owner rolls back."""
    key = f"breach/{limit.key}"
    if not first_in_window(key):
        return
    caller = current_caller()
    details = {
        "reason": "rate_limit",
        "limit": str(limit.limit),
        "endpoint": request.endpoint or "",
    }
    uow.durable(
        db.session,
        lambda session: audit.record(
            session, caller, "auth.throttled", outcome="denied", details=details
        ),
    )
