"""All models, imported here so Alembic and the app see one metadata."""

from artifact.models.accounts import ApiToken, Organization, Role, User, UserSession
from artifact.models.audit import AuditCheckpoint, AuditEvent
from artifact.models.base import Base
from artifact.models.identity import AccountToken, MfaCredential, RecoveryCode, SignInThrottle

__all__ = [
    "AccountToken",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "Base",
    "MfaCredential",
    "Organization",
    "RecoveryCode",
    "Role",
    "SignInThrottle",
    "User",
    "UserSession",
]
