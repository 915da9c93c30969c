"""Subscriptions: which new reports and versions a user hears about, the notification kinds
they turned off, and the signed one-click unsubscribe links of RFC 8058.

Series and categories are stored by slug and checked against the records staff manage. Whether
a report may be mailed to a subscriber is decided when the mail is built (``mails``), never here.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from artifact.audit.services import chain as audit
from artifact.kernel.caller import Caller
from artifact.kernel.errors import NotFound, Unauthenticated, ValidationFailed
from artifact.models import ReportCategory, ReportSeries, Subscription, User
from artifact.models.base import DbSession, is_id, utcnow

# Groups a mail can be unsubscribed from (each mail names its group in its unsubscribe link).
REPORTS = "reports"  # new reports and versions: unsubscribing clears the subscription
GROUPS = {
    REPORTS: "New reports and versions you subscribed to",
    "access_requests": "Access requests waiting for a decision (staff)",
    "access_decisions": "Decisions on your access requests",
    "agreements": "New versions of agreements you accepted",
    "evidence": "Evidence you own that expires soon (staff)",
    "validity": "Reports whose validity ends soon (staff)",
    "engagements": "Audit engagement requests, comments and due dates",
}
MUTABLE = tuple(group for group in GROUPS if group != REPORTS)
MAX_ITEMS = 200
_SALT = "artifact-unsubscribe"


def _signed_in(caller: Caller) -> str:
    if not caller.is_authenticated or not caller.user_id or not caller.active:
        raise Unauthenticated("sign in to manage your subscriptions")
    return caller.user_id


def subscription_of(db: DbSession, user_id: str) -> Subscription | None:
    return db.scalar(select(Subscription).where(Subscription.user_id == user_id))


def as_json(sub: Subscription | None) -> dict[str, Any]:
    return {
        "all_reports": bool(sub and sub.all_reports),
        "series": list(sub.series) if sub else [],
        "categories": list(sub.categories) if sub else [],
        "muted": list(sub.muted) if sub else [],
    }


def get_subscriptions(db: DbSession, caller: Caller) -> dict[str, Any]:
    """The caller's subscriptions. Raises Unauthenticated."""
    return as_json(subscription_of(db, _signed_in(caller)))


def _slugs(
    db: DbSession, values: Any, model: type[ReportSeries | ReportCategory], what: str
) -> list[str]:
    if not isinstance(values, list) or len(values) > MAX_ITEMS:
        raise ValidationFailed(f"{what!r} must be a list (at most {MAX_ITEMS} items)")
    found: list[str] = []
    for value in values:
        if not isinstance(value, str) or "\x00" in value or not value.strip():
            raise ValidationFailed(f"every item of {what!r} must be a non-empty string")
        cleaned = " ".join(value.split())
        slug = db.scalar(select(model.slug).where(func.lower(model.slug) == cleaned.lower()))
        if slug is None:
            known = ", ".join(db.scalars(select(model.slug).order_by(model.slug)))
            raise ValidationFailed(
                f"unknown {'category' if what == 'categories' else what} {cleaned[:80]!r}: "
                f"choose from {known or 'none yet'}"
            )
        if slug not in found:
            found.append(slug)
    return found


def _muted(values: Any) -> list[str]:
    if not isinstance(values, list) or any(v not in MUTABLE for v in values):
        raise ValidationFailed(f"'muted' must be a list of: {', '.join(MUTABLE)}")
    return sorted(set(values))


def put_subscriptions(db: DbSession, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """Replace the caller's subscriptions with ``body`` (``all_reports``, ``series``,
    ``categories``, optional ``muted``). Raises Unauthenticated, ValidationFailed (nothing
    is changed then)."""
    user_id = _signed_in(caller)
    unknown = set(body) - {"all_reports", "series", "categories", "muted"}
    if unknown:
        raise ValidationFailed(f"unknown field {sorted(unknown)[0]!r}")
    all_reports = body.get("all_reports", False)
    if not isinstance(all_reports, bool):
        raise ValidationFailed("'all_reports' must be true or false")
    series = _slugs(db, body.get("series", []), ReportSeries, "series")
    categories = _slugs(db, body.get("categories", []), ReportCategory, "categories")
    sub = subscription_of(db, user_id)
    muted = _muted(body["muted"]) if "muted" in body else (list(sub.muted) if sub else [])
    if sub is None:
        sub = Subscription(user_id=user_id)
        db.add(sub)
    sub.all_reports, sub.series, sub.categories, sub.muted = all_reports, series, categories, muted
    sub.updated_at = utcnow()
    db.flush()
    return as_json(sub)


def is_muted(sub: Subscription | None, group: str) -> bool:
    return bool(sub and group in (sub.muted or []))


def unsubscribe_token(secret_key: str, user_id: str, group: str) -> str:
    """The signed token of a one-click unsubscribe link (no expiry: a link in an old mail
    must still work; it can only turn notifications off)."""
    return str(URLSafeSerializer(secret_key, salt=_SALT).dumps({"u": user_id, "g": group}))


def read_unsubscribe_token(db: DbSession, secret_key: str, token: str) -> tuple[User, str]:
    """The user and group a token names. Raises NotFound for a bad or foreign token."""
    try:
        data = URLSafeSerializer(secret_key, salt=_SALT).loads(token[:500])
    except BadSignature:
        raise NotFound("this unsubscribe link is not valid") from None
    user_id, group = (data.get("u"), data.get("g")) if isinstance(data, dict) else (None, None)
    user = db.get(User, user_id) if is_id(user_id) else None
    if user is None or group not in GROUPS:
        raise NotFound("this unsubscribe link is not valid")
    return user, str(group)


def unsubscribe(db: DbSession, caller: Caller, secret_key: str, token: str) -> tuple[User, str]:
    """Apply a one-click unsubscribe (no sign-in: the signed token is the authority): the
    group ``reports`` clears the report subscriptions, any other group is muted. Idempotent;
    recorded in the audit trail (who asked: often a mail client, not the user). Raises
    NotFound."""
    user, group = read_unsubscribe_token(db, secret_key, token)
    audit.record(
        db,
        caller,
        "notifications.unsubscribe",
        target_type="user",
        target_id=user.id,
        details={"group": group},
    )
    sub = subscription_of(db, user.id)
    if sub is None:
        sub = Subscription(user_id=user.id, series=[], categories=[], muted=[])
        db.add(sub)
    if group == REPORTS:
        sub.all_reports, sub.series, sub.categories = False, [], []
    elif group not in (sub.muted or []):
        sub.muted = sorted({*(sub.muted or []), group})
    sub.updated_at = utcnow()
    db.flush()
    return user, group
