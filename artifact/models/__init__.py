"""All models, imported here so Alembic and the app see one metadata."""

from artifact.models.accounts import (
    ApiToken,
    Organization,
    OrganizationDomain,
    Role,
    User,
    UserSession,
)
from artifact.models.agreements import Acceptance, Agreement, AgreementVersion, Termination
from artifact.models.audit import AuditCheckpoint, AuditEvent
from artifact.models.base import Base
from artifact.models.catalog import (
    AccessRequest,
    ApprovalRule,
    DownloadReceipt,
    Grant,
    Report,
    ReportCategory,
    ReportSeries,
    ReportVersion,
)
from artifact.models.engagements import (
    Engagement,
    EngagementAuditor,
    EngagementReceipt,
    EngagementRequest,
    EngagementRequirement,
    RequestComment,
    RequestEvidence,
)
from artifact.models.evidence import (
    Evidence,
    EvidenceApproval,
    EvidenceLink,
    EvidenceVersion,
)
from artifact.models.frameworks import Framework, Mapping, Requirement
from artifact.models.generation import PolicyGeneration, track_policy_changes
from artifact.models.identity import AccountToken, MfaCredential, RecoveryCode, SignInThrottle
from artifact.models.notifications import MailSend, OutboxEvent, Subscription
from artifact.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "AccountToken",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "Base",
    "Framework",
    "Mapping",
    "MfaCredential",
    "Organization",
    "RecoveryCode",
    "Requirement",
    "Role",
    "SignInThrottle",
    "User",
    "UserSession",
]
__all__ += ["Acceptance", "Agreement", "AgreementVersion", "Termination"]
__all__ += ["AccessRequest", "DownloadReceipt", "Grant", "Report", "ReportVersion"]
__all__ += ["ApprovalRule", "OrganizationDomain", "ReportCategory", "ReportSeries"]
__all__ += ["Evidence", "EvidenceApproval", "EvidenceLink", "EvidenceVersion"]
__all__ += ["WebhookAttempt", "WebhookDelivery", "WebhookEndpoint"]
__all__ += ["MailSend", "OutboxEvent", "Subscription"]
__all__ += ["PolicyGeneration"]
__all__ += ["Engagement", "EngagementAuditor", "EngagementReceipt", "EngagementRequest"]
__all__ += ["EngagementRequirement", "RequestComment", "RequestEvidence"]

# Every session, whoever opens it (requests, commands, tests), bumps the policy generation.
track_policy_changes()
