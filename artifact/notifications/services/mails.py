"""Which mails an event causes, to whom, and sending each at most once.

Recipients are found when the mail is built, not when the event was emitted: a subscriber gets
a mail about a report only if the policy lets them see it (and it is listed to them) now. Every
mail is claimed in ``mail_send`` (unique per event, recipient and kind) and committed before
it goes out, so a worker killed and started again never sends it twice; a refused or
unreachable SMTP server marks it failed, and a later attempt sends it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from artifact import policy
from artifact.infra.mail import Mailer
from artifact.kernel.caller import Caller
from artifact.models import (
    Acceptance,
    AccessRequest,
    Agreement,
    Evidence,
    MailSend,
    Report,
    Role,
    Subscription,
    Termination,
    User,
)
from artifact.models.base import DbSession, is_id, utcnow
from artifact.models.notifications import SendStatus
from artifact.notifications.events import Event
from artifact.notifications.services.subscriptions import is_muted, subscription_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    """One mail to build: ``group`` names what its unsubscribe link turns off (None: a mail
    about the user's own security, which carries none)."""

    recipient: User
    kind: str
    group: str | None
    template: str
    subject: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outgoing:
    """What sending needs from the app: the mailer, the templates (text, html), absolute
    links from ARTIFACT_BASE_URL, and the owner's commit and rollback."""

    mailer: Mailer
    render: Callable[[str, dict[str, Any]], tuple[str, str]]
    link: Callable[[str], str]
    unsubscribe_link: Callable[[str, str], str]
    commit: Callable[[], None]
    rollback: Callable[[], None]


def _staff(db: DbSession) -> list[User]:
    users = db.scalars(
        select(User).where(User.role.in_([Role.STAFF, Role.ADMIN]), User.disabled_at.is_(None))
    )
    return sorted(users, key=lambda u: u.email)


def _active(db: DbSession, user_id: Any) -> User | None:
    user = db.get(User, user_id) if is_id(user_id) else None
    return user if user is not None and user.is_active else None


def _unmuted(db: DbSession, users: Iterable[User], group: str) -> list[User]:
    return [u for u in users if not is_muted(subscription_of(db, u.id), group)]


def _scope_label(db: DbSession, data: dict[str, Any]) -> str:
    if is_id(data.get("report_id")):
        report = db.get(Report, data["report_id"])
        return f"the report {report.title!r}" if report else "a report"
    if data.get("series"):
        return f"the series {data['series']}"
    return f"the category {data.get('category') or '?'}"


def _access_request_created(db: DbSession, data: dict[str, Any]) -> list[Mail]:
    request = db.get(AccessRequest, data.get("id")) if is_id(data.get("id")) else None
    requester = _active(db, data.get("user_id"))
    if request is None or requester is None or request.state != "pending":
        return []  # decided already (by a rule, or before the worker ran): nothing to ask staff
    context = {
        "requester": requester.name or requester.email,
        "requester_email": requester.email,
        "what": _scope_label(db, data),
        "queue_path": "/catalog/requests",
    }
    return [
        Mail(
            u,
            "access_request.received",
            "access_requests",
            "access_request_received",
            "New access request waiting for a decision",
            context,
        )
        for u in _unmuted(db, _staff(db), "access_requests")
    ]


def _access_request_decided(db: DbSession, data: dict[str, Any]) -> list[Mail]:
    requester = _active(db, data.get("user_id"))
    if requester is None or _unmuted(db, [requester], "access_decisions") == []:
        return []
    approved = data.get("state") == "approved"
    path = f"/catalog/{data['report_id']}" if is_id(data.get("report_id")) else "/catalog/"
    context = {
        "approved": approved,
        "what": _scope_label(db, data),
        "expires_at": data.get("expires_at"),
        "path": path,
    }
    subject = "Your access request was " + ("approved" if approved else "denied")
    return [
        Mail(
            requester,
            "access_request.decision",
            "access_decisions",
            "access_request_decided",
            subject,
            context,
        )
    ]


def may_see(db: DbSession, user: User, report: Report) -> bool:
    """The policy's answer for this subscriber now: visible and listed to them."""
    caller = Caller.of_user(user)
    stmt = policy.listed(select(Report.id).where(Report.id == report.id), caller)
    return db.scalar(stmt) is not None


def subscribers(db: DbSession, report: Report) -> list[User]:
    """Active users whose subscription covers the report (all, its series or category)."""
    rows = db.execute(
        select(Subscription, User)
        .join(User, User.id == Subscription.user_id)
        .where(User.disabled_at.is_(None))
    ).all()
    found = []
    for sub, user in rows:
        if (
            sub.all_reports
            or (report.series and report.series in (sub.series or []))
            or (report.category in (sub.categories or []))
        ):
            found.append(user)
    return sorted(found, key=lambda u: u.email)


def _report_news(db: DbSession, data: dict[str, Any], new_version: bool) -> list[Mail]:
    report = db.get(Report, data.get("report_id")) if is_id(data.get("report_id")) else None
    if report is None:
        return []
    context = {
        "title": report.title,
        "series": report.series,
        "category": report.category,
        "version": data.get("version"),
        "new_version": new_version,
        "path": f"/catalog/{report.id}",
    }
    kind = "report.new_version" if new_version else "report.new"
    subject = f"New version of {report.title}" if new_version else f"New report: {report.title}"
    return [
        Mail(u, kind, "reports", "report_news", subject[:150], context)
        for u in subscribers(db, report)
        if may_see(db, u, report)
    ]


def _agreement_version_added(db: DbSession, data: dict[str, Any]) -> list[Mail]:
    agreement = db.get(Agreement, data.get("agreement_id"))
    version = data.get("version")
    if agreement is None or not isinstance(version, int):
        return []
    terminated = select(Termination.acceptance_id)
    users = db.scalars(
        select(User)
        .join(Acceptance, Acceptance.user_id == User.id)
        .where(
            Acceptance.agreement_id == agreement.id,
            Acceptance.version_number < version,
            Acceptance.id.not_in(terminated),
            User.disabled_at.is_(None),
        )
        .distinct()
    )
    context = {"title": agreement.title, "version": version, "path": f"/agreements/{agreement.id}"}
    return [
        Mail(
            u,
            "agreement.new_version",
            "agreements",
            "agreement_new_version",
            f"New version of {agreement.title}: your acceptance no longer covers downloads",
            context,
        )
        for u in _unmuted(db, sorted(users, key=lambda u: u.email), "agreements")
    ]


def _evidence_expiring(db: DbSession, data: dict[str, Any]) -> list[Mail]:
    evidence = db.get(Evidence, data.get("evidence_id")) if is_id(data.get("evidence_id")) else None
    owner = _active(db, evidence.owner_id) if evidence else None
    if evidence is None or owner is None:
        return []
    days = data.get("days")
    context = {
        "title": evidence.title,
        "expires_on": data.get("expires_on"),
        "days": days,
        "path": f"/evidence/{evidence.id}",
    }
    return [
        Mail(
            u,
            "evidence.expiring",
            "evidence",
            "evidence_expiring",
            f"Evidence expires in {days} day{'s' if days != 1 else ''}: {evidence.title}"[:150],
            context,
        )
        for u in _unmuted(db, [owner], "evidence")
    ]


def _validity_ending(db: DbSession, data: dict[str, Any]) -> list[Mail]:
    report = db.get(Report, data.get("report_id")) if is_id(data.get("report_id")) else None
    if report is None:
        return []
    context = {
        "title": report.title,
        "valid_until": data.get("valid_until"),
        "days": data.get("days"),
        "path": f"/catalog/{report.id}",
    }
    return [
        Mail(
            u,
            "report.validity_ending",
            "validity",
            "report_validity_ending",
            f"Validity ends soon: {report.title}"[:150],
            context,
        )
        for u in _unmuted(db, _staff(db), "validity")
    ]


_BUILDERS: dict[str, Callable[[DbSession, dict[str, Any]], list[Mail]]] = {
    "access_request.created": _access_request_created,
    "access_request.decided": _access_request_decided,
    "report.published": lambda db, data: _report_news(db, data, new_version=False),
    "report.version_added": lambda db, data: _report_news(db, data, new_version=True),
    "agreement.version_added": _agreement_version_added,
    "evidence.expiring": _evidence_expiring,
    "report.validity_ending": _validity_ending,
}


Builder = Callable[[DbSession, dict[str, Any]], list[Mail]]


def register_builder(event_type: str, builder: Builder) -> None:
    """Another feature's mails for one of its internal event types (engagements): the
    builder finds the recipients when the mail is built, like the ones above."""
    _BUILDERS[event_type] = builder


def active_user(db: DbSession, user_id: Any) -> User | None:
    """The user ``user_id`` names if active (a recipient must be)."""
    return _active(db, user_id)


def unmuted(db: DbSession, users: Iterable[User], group: str) -> list[User]:
    """``users`` who did not turn ``group`` off."""
    return _unmuted(db, users, group)


def staff(db: DbSession) -> list[User]:
    """Every active staff member and admin, by e-mail."""
    return _staff(db)


def plan(db: DbSession, event: Event) -> list[Mail]:
    """The mails ``event`` causes now (none for event types without mail)."""
    builder = _BUILDERS.get(event.type)
    return builder(db, dict(event.data)) if builder else []


def _claim(db: DbSession, out: Outgoing, event_id: str, mail: Mail) -> bool:
    """Claim this (event, recipient, kind) for sending and commit the claim. False when it was
    sent (or claimed by a worker that died sending it) before."""
    where = (
        MailSend.event_id == event_id,
        MailSend.recipient == mail.recipient.email,
        MailSend.kind == mail.kind,
    )
    existing = db.scalar(select(MailSend).where(*where))
    if existing is not None:
        if existing.status != SendStatus.FAILED:
            return False
        taken = db.execute(
            update(MailSend)
            .where(*where, MailSend.status == SendStatus.FAILED)
            .values(status=SendStatus.SENDING, attempts=MailSend.attempts + 1, at=utcnow())
        )
        out.commit()
        return bool(getattr(taken, "rowcount", 0) == 1)
    db.add(MailSend(event_id=event_id, recipient=mail.recipient.email, kind=mail.kind, at=utcnow()))
    try:
        out.commit()
    except IntegrityError:
        out.rollback()
        return False
    return True


def _message(out: Outgoing, mail: Mail) -> Any:
    context = {**mail.context, "name": mail.recipient.name or mail.recipient.email}
    context["url"] = out.link(str(context.get("path") or context.get("queue_path") or "/"))
    headers: dict[str, str] = {}
    if mail.group is not None:
        unsubscribe = out.unsubscribe_link(mail.recipient.id, mail.group)
        context["unsubscribe_url"] = unsubscribe
        context["preferences_url"] = out.link("/subscriptions")
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text, html = out.render(mail.template, context)
    return out.mailer.compose(mail.recipient.email, mail.subject, text, html, headers)


def send_event_mails(db: DbSession, event: Event, out: Outgoing) -> None:
    """Send every mail ``event`` causes that was not sent yet. Raises RuntimeError naming how
    many failed (each is recorded), so the event is tried again later."""
    failures = 0
    for mail in plan(db, event):
        if not _claim(db, out, event.id, mail):
            continue
        status, error = SendStatus.SENT, None
        try:
            out.mailer.deliver(_message(out, mail))
        except Exception as exc:  # recorded; the event is retried
            status, error = SendStatus.FAILED, f"{type(exc).__name__}: {str(exc)[:300]}"
            failures += 1
            log.warning("mail %s for event %s failed: %s", mail.kind, event.id, type(exc).__name__)
        db.execute(
            update(MailSend)
            .where(
                MailSend.event_id == event.id,
                MailSend.recipient == mail.recipient.email,
                MailSend.kind == mail.kind,
            )
            .values(status=status, error=error, at=utcnow())
        )
        out.commit()
    if failures:
        raise RuntimeError(f"{failures} mail(s) of event {event.id} could not be sent")
