"""THE access policy: who may do what to which object.

Three ways in, one source of truth:
- ``ROLE_GRANTS``: the literal table an auditor can read;
- ``decide(user, action, obj)``: a total function that explains its answer;
- ``visible(stmt, user, entity)``: the same rules as a SQL filter for lists and counts;
and ``can`` as a Jinja global, so templates hide what the user may not do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false

from artifact.models import ApiToken, Organization, Role, User


class Reason:
    ALLOWED = "allowed"
    OPERATOR = "operator"
    SIGN_IN = "sign_in"
    DISABLED = "disabled"
    UNKNOWN_ROLE = "unknown_role"
    ROLE = "role_lacks_permission"
    NOT_VISIBLE = "not_visible"
    NOT_OWNER = "not_owner"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def hides_existence(self) -> bool:
        """A denial that must look like 'not found' to the caller."""
        return self.reason == Reason.NOT_VISIBLE


class Operator:
    """The command line: whoever runs ``flask`` on the server already holds the data directory."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    id = None
    email = "operator"
    role = "operator"

    def __repr__(self) -> str:
        return "<Operator>"


OPERATOR = Operator()

# What each role may do at all; object rules below narrow it per object.
_SIGNED_IN = frozenset({"account.view", "account.change_password", "token.create_own"})
_STAFF = frozenset({"staff.area"})
_ADMIN = frozenset(
    {
        "admin.area",
        "organization.list",
        "organization.create",
        "user.list",
        "user.create",
        "user.set_role",
        "user.disable",
        "token.revoke_any",
        "audit.view",
        "audit.verify",
        "audit.export",
        "audit.checkpoint",
        "user.reset_mfa",
    }
)
ROLE_GRANTS: dict[str, frozenset[str]] = {
    "anonymous": frozenset(),
    Role.CUSTOMER: _SIGNED_IN | {"user.view", "token.revoke"},
    Role.AUDITOR: _SIGNED_IN | {"user.view", "token.revoke"},
    Role.STAFF: _SIGNED_IN | _STAFF | {"user.view", "token.revoke"},
    Role.ADMIN: _SIGNED_IN | _STAFF | _ADMIN | {"user.view", "token.revoke"},
}
ALL_ACTIONS = frozenset().union(*ROLE_GRANTS.values())

_ALLOW = Decision(True, Reason.ALLOWED)


def _user_view(user: User, obj: Any) -> Decision:
    if not isinstance(obj, User):
        return Decision(False, Reason.NOT_VISIBLE)
    if user.role == Role.ADMIN or obj.id == user.id:
        return _ALLOW
    same_org = obj.organization_id is not None and obj.organization_id == user.organization_id
    if user.is_org_admin and same_org:
        return _ALLOW
    return Decision(False, Reason.NOT_VISIBLE)


def _token_revoke(user: User, obj: Any) -> Decision:
    if not isinstance(obj, ApiToken):
        return Decision(False, Reason.NOT_VISIBLE)
    if user.role == Role.ADMIN or obj.user_id == user.id:
        return _ALLOW
    return Decision(False, Reason.NOT_VISIBLE)


OBJECT_RULES: dict[str, Callable[[User, Any], Decision]] = {
    "user.view": _user_view,
    "token.revoke": _token_revoke,
}


def decide(user: Any, action: str, obj: Any = None) -> Decision:
    """May ``user`` do ``action`` (to ``obj``)? Total: every input gets an answer and a reason."""
    if isinstance(user, Operator):
        return Decision(True, Reason.OPERATOR)
    if user is None or not getattr(user, "is_authenticated", False):
        if action in ROLE_GRANTS["anonymous"]:
            return _ALLOW
        return Decision(False, Reason.SIGN_IN)
    if not user.is_active:
        return Decision(False, Reason.DISABLED)
    grants = ROLE_GRANTS.get(user.role)
    if grants is None:
        return Decision(False, Reason.UNKNOWN_ROLE)
    if action not in grants:
        # Asking about a specific object the role may not touch reveals nothing about it.
        return Decision(False, Reason.NOT_VISIBLE if obj is not None else Reason.ROLE)
    rule = OBJECT_RULES.get(action)
    return rule(user, obj) if rule is not None else _ALLOW


def visible(stmt: Select[Any], user: Any, entity: type) -> Select[Any]:
    """Filter ``stmt`` (selecting ``entity``) down to the rows ``user`` may see."""
    if isinstance(user, Operator):
        return stmt
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return stmt.where(false())
    if entity is User:
        if user.role == Role.ADMIN:
            return stmt
        if user.is_org_admin and user.organization_id:
            return stmt.where(User.organization_id == user.organization_id)
        return stmt.where(User.id == user.id)
    if entity is Organization:
        if user.role == Role.ADMIN:
            return stmt
        if user.organization_id:
            return stmt.where(Organization.id == user.organization_id)
        return stmt.where(false())
    if entity is ApiToken:
        if user.role == Role.ADMIN:
            return stmt
        return stmt.where(ApiToken.user_id == user.id)
    raise TypeError(f"policy.visible knows no rule for {entity.__name__}")
