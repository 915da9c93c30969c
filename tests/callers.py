"""Callers for tests: a stored user, a test double with a role, or nobody."""

from __future__ import annotations

from typing import Any

from artifact.kernel.caller import Caller, CallerKind


def as_caller(who: Any) -> Caller:
    """The caller a request by ``who`` would build (None or a visitor: anonymous)."""
    if isinstance(who, Caller):
        return who
    if who is None or not getattr(who, "is_authenticated", True):
        return Caller.anonymous()
    return Caller(
        CallerKind.USER,
        user_id=who.id,
        email=getattr(who, "email", None),
        name=getattr(who, "name", "") or "",
        role=who.role,
        organization_id=getattr(who, "organization_id", None),
        is_org_admin=bool(getattr(who, "is_org_admin", False)),
        active=bool(getattr(who, "is_active", True)),
    )
