"""THE access policy: who may do what to which object.

Three ways in, one source of truth:
- ``ROLE_GRANTS``: the literal table an auditor can read;
- ``decide(user, action, obj)``: a total function that explains its answer;
- ``visible(stmt, user, entity)``: the same rules as a SQL filter for lists and counts;
and ``can`` as a Jinja global, so templates hide what the user may not do. ``may_download``
is the one answer to "may this caller download this report now" (downloads and search), and
``listed`` narrows ``visible`` to what catalog lists and search show (hidden reports are reached
by a direct link only).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import aliased, object_session

from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound, PermissionDenied, Unauthenticated
from artifact.models import (
    Acceptance,
    Agreement,
    ApiToken,
    Engagement,
    EngagementAuditor,
    EngagementRequirement,
    Evidence,
    EvidenceApproval,
    EvidenceLink,
    EvidenceVersion,
    Framework,
    Grant,
    Organization,
    Report,
    Requirement,
    Role,
    Termination,
    User,
    UserSession,
    generation,
)
from artifact.models.base import DbSession, utcnow
from artifact.models.catalog import Listing, State, Visibility
from artifact.models.engagements import EngagementState
from artifact.models.evidence import EvidenceState


class Reason:
    ALLOWED = "allowed"
    OPERATOR = "operator"
    SIGN_IN = "sign_in"
    DISABLED = "disabled"
    UNKNOWN_ROLE = "unknown_role"
    ROLE = "role_lacks_permission"
    NOT_VISIBLE = "not_visible"
    NOT_OWNER = "not_owner"
    NOT_ORG_ADMIN = "not_org_admin"
    OWN_EVIDENCE = "uploader_cannot_approve"
    ACCEPT_TERMS = "accept_terms"


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


# What each role may do at all; object rules below narrow it per object.
_SIGNED_IN = frozenset(
    {
        "account.view",
        "account.change_password",
        "token.create_own",
        "framework.view",
        "session.end",
        "subscription.manage",
    }
)
_SIGNED_IN |= {
    "agreement.view",
    "agreement.accept",
    "agreement.bind_organization",
    "agreement.terminate",
    "acceptance.certificate",
}
_STAFF = frozenset(
    {"acceptance.list_all", "framework.import", "framework.export", "analytics.view"}
)
_ADMIN = frozenset(
    {
        "admin.area",
        "organization.create",
        "organization.manage",
        "user.create",
        "user.set_role",
        "user.disable",
        "token.revoke_any",
        "agreement.manage",
        "audit.view",
        "audit.verify",
        "audit.export",
        "audit.checkpoint",
        "user.reset_mfa",
        "webhook.manage",
        "notifications.admin",
        "identity_provider.manage",
    }
)
# The catalog: anyone may look (object rules and visible() narrow it); staff curate it.
_CATALOG_ANYONE = frozenset({"report.list", "report.view", "report.download", "taxonomy.view"})
_CATALOG_SIGNED_IN = _CATALOG_ANYONE | {"access_request.create", "access_request.list_own"}
_CATALOG_STAFF = frozenset(
    {
        "report.create",
        "report.upload",
        "report.original",
        "report.set_state",
        "report.set_terms",
        "report.edit",
        "report.history",
        "report.access",
        "taxonomy.manage",
        "grant.list",
        "grant.create",
        "grant.revoke",
        "access_request.list",
        "access_request.decide",
        "approval_rule.manage",
    }
)
_CATALOG_ADMIN = frozenset({"report.purge_version", "keys.manage"})
# Evidence exists only for staff and admins (auditors will get one engagement's evidence once
# engagements exist); everyone else gets 404 on any of it.
_EVIDENCE_STAFF = frozenset(
    {
        "evidence.list",
        "evidence.view",
        "evidence.upload",
        "evidence.edit",
        "evidence.submit",
        "evidence.approve",
        "evidence.download",
        "coverage.freshness",
    }
)
# Engagements: auditors read the engagements they are on while open (the object rules and
# ``visible`` narrow it) and work the request list; staff run them.
_ENGAGEMENT_AUDITOR = frozenset(
    {
        "engagement.list",
        "engagement.view",
        "engagement.evidence",
        "engagement.request.create",
        "engagement.request.comment",
        "engagement.request.review",
    }
)
_ENGAGEMENT_STAFF = frozenset(
    {
        "engagement.list",
        "engagement.view",
        "engagement.evidence",
        "engagement.create",
        "engagement.close",
        "engagement.export",
        "engagement.request.create",
        "engagement.request.comment",
        "engagement.request.manage",
    }
)
ROLE_GRANTS: dict[str, frozenset[str]] = {
    "anonymous": _CATALOG_ANYONE,
    Role.CUSTOMER: _SIGNED_IN | _CATALOG_SIGNED_IN | {"user.view", "token.revoke"},
    Role.AUDITOR: _SIGNED_IN
    | _CATALOG_SIGNED_IN
    | _ENGAGEMENT_AUDITOR
    | {"user.view", "token.revoke"},
    Role.STAFF: _SIGNED_IN
    | _STAFF
    | _ENGAGEMENT_STAFF
    | _CATALOG_SIGNED_IN
    | _CATALOG_STAFF
    | _EVIDENCE_STAFF
    | {"user.view", "token.revoke"},
    Role.ADMIN: _SIGNED_IN
    | _STAFF
    | _ADMIN
    | _CATALOG_SIGNED_IN
    | _CATALOG_STAFF
    | _CATALOG_ADMIN
    | _EVIDENCE_STAFF
    | _ENGAGEMENT_STAFF
    | {"user.view", "token.revoke"},
}
ALL_ACTIONS = frozenset().union(*ROLE_GRANTS.values())

_ALLOW = Decision(True, Reason.ALLOWED)


def _user_view(caller: Caller, obj: Any) -> Decision:
    if not isinstance(obj, User):
        return Decision(False, Reason.NOT_VISIBLE)
    if caller.role == Role.ADMIN or obj.id == caller.user_id:
        return _ALLOW
    same_org = obj.organization_id is not None and obj.organization_id == caller.organization_id
    if caller.is_org_admin and same_org:
        return _ALLOW
    return Decision(False, Reason.NOT_VISIBLE)


def _token_revoke(caller: Caller, obj: Any) -> Decision:
    if not isinstance(obj, ApiToken):
        return Decision(False, Reason.NOT_VISIBLE)
    if caller.role == Role.ADMIN or obj.user_id == caller.user_id:
        return _ALLOW
    return Decision(False, Reason.NOT_VISIBLE)


def _session_end(caller: Caller, obj: Any) -> Decision:
    """A signed-in session is ended by its own user only (admins disable the account)."""
    if obj is None:  # the action in general; each session is checked again
        return _ALLOW
    if isinstance(obj, UserSession) and obj.user_id == caller.user_id:
        return _ALLOW
    return Decision(False, Reason.NOT_VISIBLE)


def _bind_organization(caller: Caller, obj: Any) -> Decision:
    """Only an organisation admin may accept or terminate for the whole organisation."""
    if caller.is_org_admin and caller.organization_id:
        return _ALLOW
    return Decision(False, Reason.NOT_ORG_ADMIN)


def _acceptance_terminate(caller: Caller, obj: Any) -> Decision:
    if obj is None:  # the action in general; each acceptance is checked again
        return _ALLOW
    if not isinstance(obj, Acceptance):
        return Decision(False, Reason.NOT_VISIBLE)
    if obj.scope == "organization":
        if obj.organization_id != caller.organization_id:
            return Decision(False, Reason.NOT_VISIBLE)
        return _bind_organization(caller, obj)
    return _ALLOW if obj.user_id == caller.user_id else Decision(False, Reason.NOT_VISIBLE)


def _acceptance_certificate(caller: Caller, obj: Any) -> Decision:
    if obj is None:  # the action in general; each acceptance is checked again
        return _ALLOW
    if not isinstance(obj, Acceptance):
        return Decision(False, Reason.NOT_VISIBLE)
    if obj.user_id == caller.user_id or caller.role in (Role.STAFF, Role.ADMIN):
        return _ALLOW
    return Decision(False, Reason.NOT_VISIBLE)


def _report_visible(caller: Caller, obj: Any) -> Decision:
    """The SQL filter is the rule: a report is visible exactly when visible() lists it (asked
    once per policy generation and caller scope: ``visible_report_ids``). Without an object
    the question is whether the role may do this at all."""
    if obj is None:
        return _ALLOW
    session = object_session(obj) if isinstance(obj, Report) else None
    if session is None or obj.id is None:
        return Decision(False, Reason.NOT_VISIBLE)
    if obj.id in visible_report_ids(session, caller):
        return _ALLOW
    return Decision(False, Reason.NOT_VISIBLE)


def _evidence_approve(caller: Caller, obj: Any) -> Decision:
    """Four eyes: whoever uploaded the current version may not approve it."""
    if obj is None:
        return _ALLOW
    if not isinstance(obj, Evidence):
        return Decision(False, Reason.NOT_VISIBLE)
    current = obj.current_version()
    if current is not None and current.created_by_id == caller.user_id:
        return Decision(False, Reason.OWN_EVIDENCE)
    return _ALLOW


def engagement_open(engagement: Engagement, today: date) -> bool:
    """Whether an engagement gives its auditors access on ``today``: open, and today within
    its start and end dates (inclusive). Closing it or its end date passing ends access."""
    return (
        engagement.state == EngagementState.OPEN
        and engagement.starts_on <= today <= engagement.ends_on
    )


def _engagement_member(caller: Caller, obj: Any) -> Decision:
    """Staff see every engagement; an auditor only one they are on, and only while it is open
    (the caller's organisation must still be the engagement's firm). Without an object the
    question is whether the role may do this at all."""
    if obj is None:
        return _ALLOW
    if not isinstance(obj, Engagement):
        return Decision(False, Reason.NOT_VISIBLE)
    if _is_staff(caller):
        return _ALLOW
    if (
        caller.role == Role.AUDITOR
        and caller.user_id in obj.auditor_ids()
        and caller.organization_id == obj.organization_id
        and engagement_open(obj, utcnow().date())
    ):
        return _ALLOW
    return Decision(False, Reason.NOT_VISIBLE)


OBJECT_RULES: dict[str, Callable[[Caller, Any], Decision]] = {
    "user.view": _user_view,
    "token.revoke": _token_revoke,
    "session.end": _session_end,
    "agreement.bind_organization": _bind_organization,
    "agreement.terminate": _acceptance_terminate,
    "acceptance.certificate": _acceptance_certificate,
    "report.view": _report_visible,
    "report.download": _report_visible,
    "evidence.approve": _evidence_approve,
    "engagement.view": _engagement_member,
    "engagement.evidence": _engagement_member,
    "engagement.request.create": _engagement_member,
    "engagement.request.comment": _engagement_member,
    "engagement.request.review": _engagement_member,
    "engagement.request.manage": _engagement_member,
    "engagement.close": _engagement_member,
    "engagement.export": _engagement_member,
}


def decide(caller: Caller, action: str, obj: Any = None) -> Decision:
    """May ``caller`` do ``action`` (to ``obj``)? Total: every input gets an answer and a reason."""
    if caller.is_operator:
        return Decision(True, Reason.OPERATOR)
    if not caller.is_authenticated:
        if action in ROLE_GRANTS["anonymous"]:
            anonymous_rule = OBJECT_RULES.get(action)
            return anonymous_rule(caller, obj) if anonymous_rule is not None else _ALLOW
        return Decision(False, Reason.SIGN_IN)
    if not caller.active:
        return Decision(False, Reason.DISABLED)
    grants = ROLE_GRANTS.get(caller.role or "")
    if grants is None:
        return Decision(False, Reason.UNKNOWN_ROLE)
    if action not in grants:
        # Asking about a specific object the role may not touch reveals nothing about it.
        return Decision(False, Reason.NOT_VISIBLE if obj is not None else Reason.ROLE)
    rule = OBJECT_RULES.get(action)
    return rule(caller, obj) if rule is not None else _ALLOW


def enforce(decision: Decision) -> None:
    """Raise the domain error a denial means: sign in (401), not found (404, for what the caller
    may not know exists), or forbidden (403)."""
    if decision:
        return
    if decision.reason == Reason.SIGN_IN:
        raise Unauthenticated("sign in required")
    if decision.hides_existence:
        raise NotFound("not found")
    raise PermissionDenied(f"not allowed: {decision.reason.replace('_', ' ')}")


def require(caller: Caller, action: str, obj: Any = None) -> None:
    """``decide`` and raise on a denial (see ``enforce``); what services call first."""
    enforce(decide(caller, action, obj))


class Gated(Protocol):
    """What the download rule reads of a report (a ``Report`` or a row selecting the column):
    the agreement its downloads need accepted, if any."""

    @property
    def terms_agreement_id(self) -> str | None: ...


TermsMet = Callable[[str], bool]


def may_download(
    caller: Caller, report: Gated, terms_met: TermsMet, *, known_visible: bool = False
) -> Decision:
    """May ``caller`` download ``report`` now? The role and the report's visibility
    (``known_visible``: it was already checked, by loading the report through the policy or by
    a query filtered with ``visible``; else asked here, which needs a ``Report``), then the
    terms gate: ``terms_met(agreement_id)``, asked only when the report needs an agreement
    and everything else allows. Staff and admins are the provider: the customer terms gate
    does not apply to them. Denials: sign in, disabled, no grant, not visible, accept terms."""
    decision = decide(caller, "report.download", None if known_visible else report)
    if not decision or not terms_gate_applies(caller):
        return decision
    agreement_id = report.terms_agreement_id
    if agreement_id is not None and not terms_met(agreement_id):
        return Decision(False, Reason.ACCEPT_TERMS)
    return decision


def _is_staff(caller: Caller) -> bool:
    return caller.is_user and caller.active and caller.role in (Role.STAFF, Role.ADMIN)


def terms_gate_applies(caller: Caller) -> bool:
    """Whether report downloads hold ``caller`` to the terms gate: not staff and admins, who
    are the provider of the reports."""
    return not _is_staff(caller)


def acceptances_covering(caller: Caller) -> ColumnElement[bool]:
    """Acceptances that cover ``caller``: their own (account scope) or their organisation's."""
    own = (Acceptance.scope == "account") & (Acceptance.user_id == caller.user_id)
    if caller.organization_id:
        ours = (Acceptance.scope == "organization") & (
            Acceptance.organization_id == caller.organization_id
        )
        return own | ours
    return own


def active_acceptances(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` (over acceptances) without those a termination has ended."""
    ended = select(Termination.acceptance_id).where(Termination.effective_at <= utcnow())
    return stmt.where(Acceptance.id.not_in(ended))


def covering_acceptance(
    session: DbSession, caller: Caller, agreement: Agreement
) -> Acceptance | None:
    """The caller's active acceptance of ``agreement``: of the current version if there is one,
    else the most recent of an older version; None if nothing active covers them."""
    if caller.user_id is None:
        return None
    stmt = active_acceptances(
        select(Acceptance).where(
            Acceptance.agreement_id == agreement.id, acceptances_covering(caller)
        )
    )
    stmt = stmt.order_by(Acceptance.version_number.desc(), Acceptance.accepted_at.desc())
    return session.scalars(stmt.limit(1)).first()


def covering_acceptances(
    session: DbSession, caller: Caller, agreements: list[Agreement]
) -> dict[str, Acceptance]:
    """``covering_acceptance`` for several agreements in one query: agreement id -> the
    acceptance (agreements nothing active covers are left out)."""
    if caller.user_id is None or not agreements:
        return {}
    stmt = active_acceptances(
        select(Acceptance).where(
            Acceptance.agreement_id.in_([a.id for a in agreements]),
            acceptances_covering(caller),
        )
    )
    stmt = stmt.order_by(Acceptance.version_number.desc(), Acceptance.accepted_at.desc())
    found: dict[str, Acceptance] = {}
    for acceptance in session.scalars(stmt):
        found.setdefault(acceptance.agreement_id, acceptance)
    return found


def terms_met(session: DbSession, caller: Caller, agreement_id: str) -> bool:
    """Does ``caller`` (or their organisation) hold an active acceptance of the current version
    of ``agreement_id``? False for an unknown or unpublished agreement."""
    agreement = session.get(Agreement, agreement_id)
    if agreement is None or not agreement.versions or not caller.active:
        return False
    acceptance = covering_acceptance(session, caller, agreement)
    return acceptance is not None and acceptance.version_number == agreement.current.number


def visible(stmt: Select[Any], caller: Caller, entity: type) -> Select[Any]:
    """Filter ``stmt`` (selecting ``entity``) down to the rows ``caller`` may see."""
    if entity is Report:
        return _visible_reports(stmt, caller)
    if caller.is_operator:
        return stmt
    if not caller.is_authenticated or not caller.active:
        return stmt.where(false())
    if entity is User:
        if caller.role == Role.ADMIN:
            return stmt
        if caller.is_org_admin and caller.organization_id:
            return stmt.where(User.organization_id == caller.organization_id)
        return stmt.where(User.id == caller.user_id)
    if entity is Organization:
        if caller.role == Role.ADMIN:
            return stmt
        if caller.organization_id:
            return stmt.where(Organization.id == caller.organization_id)
        return stmt.where(false())
    if entity is ApiToken:
        if caller.role == Role.ADMIN:
            return stmt
        return stmt.where(ApiToken.user_id == caller.user_id)
    if entity is UserSession:  # one's own sessions only, whatever the role
        return stmt.where(UserSession.user_id == caller.user_id)
    if entity is Acceptance:
        return _visible_acceptances(stmt, caller)
    if entity is Evidence:
        return stmt if caller.role in (Role.STAFF, Role.ADMIN) else stmt.where(false())
    if entity in (Framework, Requirement):
        return stmt  # every signed-in caller may read framework and regulation trees
    if entity is Engagement:
        return _visible_engagements(stmt, caller)
    raise TypeError(f"policy.visible knows no rule for {entity.__name__}")


def _visible_engagements(stmt: Select[Any], caller: Caller) -> Select[Any]:
    """Staff see every engagement; an auditor those they are on, of their firm, while open
    today (the SQL form of ``_engagement_member``)."""
    if _is_staff(caller):
        return stmt
    if caller.role != Role.AUDITOR or not caller.user_id or not caller.organization_id:
        return stmt.where(false())
    today = utcnow().date()
    on_it = exists().where(
        EngagementAuditor.engagement_id == Engagement.id,
        EngagementAuditor.user_id == caller.user_id,
    )
    return stmt.where(
        on_it,
        Engagement.organization_id == caller.organization_id,
        Engagement.state == EngagementState.OPEN,
        Engagement.starts_on <= today,
        Engagement.ends_on >= today,
    )


def engagement_requirement_ids(engagement: Engagement) -> Select[Any]:
    """The ids of the requirements in scope of ``engagement`` (a select for ``in_``): every
    requirement of its framework, or those it names."""
    if engagement.framework_id is not None:
        return select(Requirement.id).where(Requirement.framework_id == engagement.framework_id)
    return select(EngagementRequirement.requirement_id).where(
        EngagementRequirement.engagement_id == engagement.id
    )


def engagement_versions(engagement: Engagement) -> Select[Any]:
    """Evidence versions in scope of ``engagement`` (a select of ``EvidenceVersion``): approved
    (see ``_approval_stands``), effective inside the period under audit, of evidence linked to
    an in-scope requirement. What an auditor may read of evidence is exactly this."""
    linked = exists().where(
        EvidenceLink.evidence_id == EvidenceVersion.evidence_id,
        EvidenceLink.requirement_id.in_(engagement_requirement_ids(engagement)),
    )
    return (
        select(EvidenceVersion)
        .join(Evidence, Evidence.id == EvidenceVersion.evidence_id)
        .where(
            _approval_stands(),
            linked,
            EvidenceVersion.effective_date >= engagement.period_start,
            EvidenceVersion.effective_date <= engagement.period_end,
        )
    )


def _approval_stands() -> ColumnElement[bool]:
    """The version was approved, and the approval still stands: for an older version always
    (a newer version superseded it; the approval stays history), for the current version only
    while the evidence is approved (sent back to draft: withdrawn)."""
    later = aliased(EvidenceVersion)
    current_number = (
        select(func.max(later.number))
        .where(later.evidence_id == EvidenceVersion.evidence_id)
        .scalar_subquery()
    )
    approved = exists().where(EvidenceApproval.version_id == EvidenceVersion.id)
    return and_(
        approved,
        or_(EvidenceVersion.number < current_number, Evidence.state == EvidenceState.APPROVED),
    )


def listed(stmt: Select[Any], caller: Caller) -> Select[Any]:
    """``visible`` reports that catalog lists and search show ``caller``: staff see hidden
    reports listed too; others reach a hidden report only by a direct link. Like ``visible``,
    returns ``stmt`` itself when it filters nothing."""
    filtered = visible(stmt, caller, Report)
    if caller.is_operator or _is_staff(caller):
        return filtered
    return filtered.where(Report.listing == Listing.LISTED)


def locked(stmt: Select[Any], caller: Caller, *, public_listing: bool = False) -> Select[Any]:
    """Reports ``caller`` may know exist but not open: listed, published (or outdated) reports
    that ``visible`` leaves out. Signed-in users see restricted ones (a locked card with a
    "Request access" button); visitors see nothing locked unless the operator turned on
    ``public_listing``, and then restricted and customers-only reports. Staff have nothing
    locked. Only the catalog's metadata of a locked report is ever shown (never its versions,
    its text or a download)."""
    signed_in = caller.is_authenticated and caller.active
    if caller.is_operator or _is_staff(caller) or (not signed_in and not public_listing):
        return stmt.where(false())
    if signed_in and caller.role not in ROLE_GRANTS:
        return stmt.where(false())
    kinds = [Visibility.RESTRICTED] if signed_in else [Visibility.RESTRICTED, Visibility.CUSTOMERS]
    opened = visible(select(Report.id), caller, Report)
    return stmt.where(
        Report.state.in_([State.PUBLISHED, State.OUTDATED]),
        Report.listing == Listing.LISTED,
        Report.visibility.in_(kinds),
        Report.id.not_in(opened.scalar_subquery()),
    )


def is_locked(report: Report, caller: Caller, *, public_listing: bool = False) -> bool:
    """Whether ``report`` shows to ``caller`` as locked (see ``locked``)."""
    session = object_session(report)
    if session is None or report.id is None:
        return False
    stmt = locked(
        select(Report.id).where(Report.id == report.id), caller, public_listing=public_listing
    )
    return session.scalar(stmt) is not None


def _visible_acceptances(stmt: Select[Any], caller: Caller) -> Select[Any]:
    """Staff see every acceptance; others their own and their organisation's."""
    if caller.role in (Role.STAFF, Role.ADMIN):
        return stmt
    mine = Acceptance.user_id == caller.user_id
    if caller.organization_id:
        ours = (Acceptance.scope == "organization") & (
            Acceptance.organization_id == caller.organization_id
        )
        return stmt.where(mine | ours)
    return stmt.where(mine)


@dataclass(frozen=True)
class ReportReach:
    """The reports ``listed`` admits for a caller, stated as classes of report attributes (for
    the search index, which holds those attributes): the rule of ``_visible_reports`` and
    ``listed`` in another form (a test compares the two for every kind of caller).
    ``everything``: every report, hidden ones too (staff, operator). Otherwise reports whose
    state is in ``states``, that are listed, and whose visibility is in ``open`` or that a
    live grant to the caller names: a grant without an expiry by its grantee (``grantees``,
    the caller's ``grantee_keys``, which the index holds on each report such a grant names:
    ``standing_grantees``), one with an expiry by the report's id (``granted_ids``: the index
    holds nothing that time alone changes), a series or category grant by its series or
    category. ``files``: whether the caller may download those reports' files now
    (``may_download``): all of them when ``gates_met`` is None (no terms gate applies), else
    those without an agreement or whose agreement is in ``gates_met``. Its size is what the
    caller holds (their identities, expiring grants, agreements), never the number of
    reports."""

    everything: bool = False
    states: frozenset[str] = frozenset()
    open: frozenset[str] = frozenset()
    grantees: frozenset[str] = frozenset()
    granted_ids: frozenset[str] = frozenset()
    granted_series: frozenset[str] = frozenset()
    granted_categories: frozenset[str] = frozenset()
    files: bool = False
    gates_met: frozenset[str] | None = None


def report_reach(session: DbSession, caller: Caller) -> ReportReach:
    """``ReportReach`` for ``caller`` now: one query for their live grants, one for the
    agreements that gate downloads, and one check per such agreement (a handful)."""
    files = bool(decide(caller, "report.download"))
    signed_in = caller.is_authenticated and caller.active
    if signed_in and not caller.is_operator and caller.role not in ROLE_GRANTS:
        return ReportReach()
    gates: frozenset[str] | None = None
    if files and terms_gate_applies(caller):
        used = session.scalars(
            select(Report.terms_agreement_id)
            .where(Report.terms_agreement_id.is_not(None))
            .distinct()
        )
        gates = frozenset(a for a in used if a and terms_met(session, caller, a))
    if caller.is_operator or (signed_in and caller.role in (Role.STAFF, Role.ADMIN)):
        return ReportReach(everything=True, files=files, gates_met=gates)
    states = frozenset({State.PUBLISHED.value, State.OUTDATED.value})
    if not signed_in:
        public = frozenset({Visibility.PUBLIC.value})
        return ReportReach(states=states, open=public, files=files, gates_met=gates)
    grantee = Grant.user_id == caller.user_id
    if caller.organization_id:
        grantee = or_(grantee, Grant.organization_id == caller.organization_id)
    rows = session.execute(
        select(Grant.report_id, Grant.series, Grant.category, Grant.expires_at).where(
            grantee,
            Grant.revoked_at.is_(None),
            or_(Grant.expires_at.is_(None), Grant.expires_at > utcnow()),
        )
    ).all()
    return ReportReach(
        states=states,
        open=frozenset({Visibility.PUBLIC.value, Visibility.CUSTOMERS.value}),
        grantees=grantee_keys(caller),
        granted_ids=frozenset(r.report_id for r in rows if r.report_id and r.expires_at),
        granted_series=frozenset(r.series for r in rows if r.series),
        granted_categories=frozenset(r.category for r in rows if r.category),
        files=files,
        gates_met=gates,
    )


def grantee_key(user_id: str | None, organization_id: str | None) -> str:
    """How the search index names the grantee of a report grant (``standing_grantees``)."""
    return f"user:{user_id}" if user_id else f"org:{organization_id}"


def grantee_keys(caller: Caller) -> frozenset[str]:
    """The grantee keys a grant to ``caller`` would carry: their account's, their
    organisation's."""
    keys = {grantee_key(caller.user_id, None)}
    if caller.organization_id:
        keys.add(grantee_key(None, caller.organization_id))
    return frozenset(keys)


def standing_grantees(session: DbSession, report_id: str) -> tuple[str, ...]:
    """The grantees of the report's grants that only a revocation ends (live, no expiry),
    sorted: what the search index holds on the report (a grant with an expiry is matched by
    the report's id at query time, ``ReportReach.granted_ids``). Services that create or revoke
    a report grant have the report reindexed."""
    rows = session.execute(
        select(Grant.user_id, Grant.organization_id).where(
            Grant.report_id == report_id,
            Grant.revoked_at.is_(None),
            Grant.expires_at.is_(None),
        )
    ).all()
    return tuple(sorted({grantee_key(r.user_id, r.organization_id) for r in rows}))


def _visible_reports(stmt: Select[Any], caller: Caller) -> Select[Any]:
    """Staff see every report; others see published (or outdated) reports that are public, for
    signed-in users, or restricted with a live grant to them or their organisation for the
    report, its series or its category. Drafts and retired reports exist only for staff."""
    signed_in = caller.is_authenticated and caller.active
    if caller.is_operator or (signed_in and caller.role in (Role.STAFF, Role.ADMIN)):
        return stmt
    listed = Report.state.in_([State.PUBLISHED, State.OUTDATED])
    if not signed_in:
        return stmt.where(listed, Report.visibility == Visibility.PUBLIC)
    if caller.role not in ROLE_GRANTS:
        return stmt.where(false())
    grantee = Grant.user_id == caller.user_id
    if caller.organization_id:
        grantee = or_(grantee, Grant.organization_id == caller.organization_id)
    granted = exists().where(
        grantee,
        Grant.revoked_at.is_(None),
        or_(Grant.expires_at.is_(None), Grant.expires_at > utcnow()),
        or_(
            Grant.report_id == Report.id,
            Grant.series == Report.series,
            Grant.category == Report.category,
        ),
    )
    return stmt.where(
        listed,
        or_(
            Report.visibility.in_([Visibility.PUBLIC, Visibility.CUSTOMERS]),
            and_(Report.visibility == Visibility.RESTRICTED, granted),
        ),
    )


# Answers kept across requests. Each carries the policy generation it was worked out at (and,
# where time alone changes it, the moment it stops being true: a grant's expiry); a lookup at
# another generation or after that moment works the answer out again. Per process, bounded.
T = TypeVar("T")
_ANSWERS: dict[Hashable, tuple[tuple[str, int], datetime | None, Any]] = {}
_MAX_ANSWERS = 4096


def scope_key(caller: Caller) -> Hashable:
    """Callers who see the same reports share one key: every visitor; all staff, admins and the
    operator; a signed-in customer or auditor by account and organisation (grants name either)."""
    signed_in = caller.is_authenticated and caller.active
    if caller.is_operator or (signed_in and caller.role in (Role.STAFF, Role.ADMIN)):
        return ("provider",)
    if not signed_in:
        return ("visitor",)
    return ("grantee", caller.role, caller.user_id, caller.organization_id)


def remember(
    db: DbSession,
    key: Hashable,
    compute: Callable[[], T],
    *,
    until: Callable[[], datetime | None] | None = None,
) -> T:
    """``compute()``, or the answer kept for ``key`` at the current policy generation. Only
    for answers that depend on nothing but what bumps the generation (and ``until``: when time
    alone makes the answer stale)."""
    return _remember(_ANSWERS, _MAX_ANSWERS, db, key, compute, until)


def _remember(
    store: dict[Hashable, tuple[tuple[str, int], datetime | None, Any]],
    limit: int,
    db: DbSession,
    key: Hashable,
    compute: Callable[[], T],
    until: Callable[[], datetime | None] | None,
) -> T:
    current = generation.read(db)  # first: see generation.read
    if generation.changed_here(db):
        return compute()
    kept = store.get(key)
    now = utcnow()
    if kept is not None and kept[0] == current and (kept[1] is None or now < kept[1]):
        return kept[2]  # type: ignore[no-any-return]
    stale_at = until() if until is not None else None
    value = compute()
    with _STORING:  # threads of one worker (the development server) share the stores
        store.pop(key, None)  # stored again last: the oldest entry goes first when full
        if len(store) >= limit:
            store.pop(next(iter(store)))
        store[key] = (current, stale_at, value)
    return value


_STORING = threading.Lock()


# Rendered parts of pages (large, up to about 30 kB): fewer of them. Readers' report and
# agreement pages are kept per account, so a busy trust center fills it.
_PAGES: dict[Hashable, tuple[tuple[str, int], datetime | None, Any]] = {}
_MAX_PAGES = 512


def remember_page(db: DbSession, name: str, caller: Caller, compute: Callable[[], T]) -> T:
    """``remember_for`` for a rendered part of a page (kept apart, at most ``_MAX_PAGES``):
    only for parts that depend on nothing but what bumps the generation and the caller's
    scope."""
    return _remember(
        _PAGES, _MAX_PAGES, db, (name, scope_key(caller)), compute, _next_grant_expiry(db)
    )


def remember_own_page(db: DbSession, name: str, caller: Caller, compute: Callable[[], T]) -> T:
    """``remember_page`` for a part that shows the caller's own records (their acceptances):
    kept per account (and what the caller's permissions read of it) until the generation
    changes, a grant expires or a scheduled termination takes effect."""
    key = (name, caller.kind, caller.user_id, caller.organization_id, caller.role, caller.active)
    return _remember(_PAGES, _MAX_PAGES, db, key, compute, _next_change(db))


def forget_answers() -> None:
    """Drop every kept answer (tests that rebuild the database under the same process)."""
    _ANSWERS.clear()
    _PAGES.clear()


def _next_grant_expiry(db: DbSession) -> Callable[[], datetime | None]:
    def ask() -> datetime | None:
        stmt = select(func.min(Grant.expires_at)).where(
            Grant.revoked_at.is_(None), Grant.expires_at > utcnow()
        )
        expiry: datetime | None = db.scalar(stmt)
        return expiry

    return ask


def remember_for(db: DbSession, name: str, caller: Caller, compute: Callable[[], T]) -> T:
    """``remember`` an answer about what ``caller``'s scope may see (``scope_key``) until the
    generation changes or a grant expires."""
    return remember(db, (name, scope_key(caller)), compute, until=_next_grant_expiry(db))


def _next_change(db: DbSession) -> Callable[[], datetime | None]:
    """When time alone next changes what a caller may download: a grant expires or a
    scheduled termination of an acceptance takes effect (the earlier of the two)."""

    def ask() -> datetime | None:
        now = utcnow()
        grant = db.scalar(
            select(func.min(Grant.expires_at)).where(
                Grant.revoked_at.is_(None), Grant.expires_at > now
            )
        )
        ending = db.scalar(
            select(func.min(Termination.effective_at)).where(Termination.effective_at > now)
        )
        moments = [m for m in (grant, ending) if m is not None]
        return min(moments) if moments else None

    return ask


def kept_report_reach(db: DbSession, caller: Caller) -> ReportReach:
    """``report_reach`` kept per policy generation and caller (their role, account and
    organisation: what it reads of them) until a grant expires or a scheduled termination
    takes effect. What each search's scope is built from: no query once it is kept."""
    key = (
        "report_reach",
        scope_key(caller),
        caller.kind,
        caller.role,
        caller.user_id,
        caller.organization_id,
        caller.active,
    )
    return remember(db, key, lambda: report_reach(db, caller), until=_next_change(db))


def kept_terms_met(db: DbSession, caller: Caller, agreement_id: str) -> bool:
    """``terms_met`` kept per policy generation and caller (account, organisation, whether
    active: what it reads of them) until a grant expires or a scheduled termination takes
    effect."""
    key = ("terms_met", agreement_id, caller.user_id, caller.organization_id, caller.active)
    return remember(db, key, lambda: terms_met(db, caller, agreement_id), until=_next_change(db))


def listed_report_gates(db: DbSession, caller: Caller) -> dict[str, str | None]:
    """The reports ``listed`` shows ``caller``, each with the agreement its downloads need (if
    any), kept per generation and scope: what search confirms a page of hits against."""

    def ask() -> dict[str, str | None]:
        stmt: Select[Any] = select(Report.id, Report.terms_agreement_id)  # type: ignore[assignment]
        return {r.id: r.terms_agreement_id for r in db.execute(listed(stmt, caller))}

    return remember_for(db, "listed_report_gates", caller, ask)


def visible_report_ids(db: DbSession, caller: Caller) -> frozenset[str]:
    """The ids of every report ``visible`` lets ``caller`` see (kept per generation and scope)."""
    return remember_for(
        db,
        "visible_reports",
        caller,
        lambda: frozenset(db.scalars(visible(select(Report.id), caller, Report))),
    )


def locked_report_ids(
    db: DbSession, caller: Caller, *, public_listing: bool = False
) -> frozenset[str]:
    """The ids of the reports ``locked`` shows ``caller`` (kept per generation and scope)."""
    return remember_for(
        db,
        f"locked_reports:{int(public_listing)}",
        caller,
        lambda: frozenset(
            db.scalars(locked(select(Report.id), caller, public_listing=public_listing))
        ),
    )


def listed_report_ids(db: DbSession, caller: Caller) -> frozenset[str]:
    """The ids of the reports ``listed`` shows ``caller`` (kept per generation and scope)."""
    return remember_for(
        db,
        "listed_reports",
        caller,
        lambda: frozenset(db.scalars(listed(select(Report.id), caller))),
    )
