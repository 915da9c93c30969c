"""All models, imported here so Alembic and the app see one metadata."""

from artifact.models.accounts import ApiToken, Organization, Role, User, UserSession
from artifact.models.agreements import Acceptance, Agreement, AgreementVersion, Termination
from artifact.models.audit import AuditEvent
from artifact.models.base import Base

__all__ = ["ApiToken", "AuditEvent", "Base", "Organization", "Role", "User", "UserSession"]
__all__ += ["Acceptance", "Agreement", "AgreementVersion", "Termination"]
