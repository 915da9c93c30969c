"""Who acts: a signed-in user, a visitor, or the command-line operator, with the facts of the
request or command they act through. Built once where a request or a command comes in
(``artifact.web.security.current_caller``; ``OPERATOR`` below for commands) and handed to every
service, which asks the policy about it and records it in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol


class CallerKind(StrEnum):
    USER = "user"
    ANONYMOUS = "anonymous"
    OPERATOR = "operator"


class UserLike(Protocol):
    """What a caller is built from: an account row (``artifact.models.User``)."""

    @property
    def id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def organization_id(self) -> str | None: ...
    @property
    def is_org_admin(self) -> bool: ...
    @property
    def is_active(self) -> bool: ...


@dataclass(frozen=True)
class Caller:
    """The caller of a service. ``role`` is the account's role for users, ``"operator"`` for the
    command line (whoever runs ``flask`` on the server already holds the data directory) and
    ``None`` for visitors."""

    kind: CallerKind
    user_id: str | None = None
    email: str | None = None
    name: str = ""
    role: str | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    is_org_admin: bool = False
    active: bool = True
    ip_address: str | None = None
    session_ref: str | None = None

    @classmethod
    def anonymous(cls, *, ip_address: str | None = None) -> Caller:
        return cls(CallerKind.ANONYMOUS, ip_address=ip_address)

    @classmethod
    def operator(cls, label: str = "cli", *, ip_address: str | None = None) -> Caller:
        """The command line (or the system acting on its own); ``label`` is what the audit
        trail records as the actor."""
        return cls(CallerKind.OPERATOR, email=label, role="operator", ip_address=ip_address)

    @classmethod
    def of_user(
        cls,
        user: UserLike,
        *,
        organization_name: str | None = None,
        ip_address: str | None = None,
        session_ref: str | None = None,
    ) -> Caller:
        if organization_name is None:
            organization = getattr(user, "organization", None)
            organization_name = getattr(organization, "name", None)
        return cls(
            CallerKind.USER,
            user_id=user.id,
            email=user.email,
            name=user.name or "",
            role=str(user.role),
            organization_id=user.organization_id,
            organization_name=organization_name,
            is_org_admin=bool(user.is_org_admin),
            active=bool(user.is_active),
            ip_address=ip_address,
            session_ref=session_ref,
        )

    def with_request(self, *, ip_address: str | None, session_ref: str | None = None) -> Caller:
        return replace(self, ip_address=ip_address, session_ref=session_ref)

    @property
    def is_user(self) -> bool:
        return self.kind is CallerKind.USER

    @property
    def is_operator(self) -> bool:
        return self.kind is CallerKind.OPERATOR

    @property
    def is_authenticated(self) -> bool:
        return self.kind is not CallerKind.ANONYMOUS

    def __repr__(self) -> str:
        who = self.email or self.kind.value
        return f"<Caller {self.kind.value} {who}>"


OPERATOR = Caller.operator()
