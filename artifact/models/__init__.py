"""All models, imported here so Alembic and the app see one metadata."""

from artifact.models.accounts import ApiToken, Organization, Role, User, UserSession
from artifact.models.audit import AuditEvent
from artifact.models.base import Base
from artifact.models.catalog import (
    AccessRequest,
    DownloadReceipt,
    Grant,
    Report,
    ReportVersion,
)

__all__ = ["ApiToken", "AuditEvent", "Base", "Organization", "Role", "User", "UserSession",
           "AccessRequest", "DownloadReceipt", "Grant", "Report", "ReportVersion"]
