"""The one door every protocol's callback walks through once it has verified the provider's
answer: ``complete_sso_sign_in`` decides who that is (linked account, a new account made just in
time, an existing account that must prove its password first, or a refusal), records it, and
answers the browser: a session under a fresh cookie (or our TOTP challenge first), the link
page, or the refusal page.

OIDC (``artifact.sso.oidc``) and SAML call it with what the provider vouched for; it needs a
request context (it answers the browser), and the request's unit of work commits it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from flask import redirect, render_template, session, url_for
from werkzeug.wrappers import Response

from artifact.extensions import db
from artifact.identity.views.auth import finish_sign_in, start_second_factor
from artifact.models import IdentityProvider
from artifact.sso.services import accounts
from artifact.sso.services.accounts import Assertion, Result
from artifact.web.links import safe_next
from artifact.web.security import current_caller

LINK_SECONDS = 600  # how long the link page waits for the password
Status = Literal["signed_in", "mfa_required", "link_required", "refused"]


@dataclass(frozen=True)
class SsoOutcome:
    """What happened, and the answer to send the browser (``return outcome.response``)."""

    status: Status
    message: str
    response: Response
    user_id: str | None = None
    reason: str | None = None  # the refusal's code
    provisioned: bool = False


def remember_next(next_url: str | None) -> None:
    """Where to land after signing in (a local path only); call it when the flow starts."""
    session["sso_next"] = safe_next(next_url)


def refused_page(message: str, status: int = 403) -> Response:
    response = Response(render_template("sso/refused.html", message=message), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def complete_sso_sign_in(
    provider: IdentityProvider,
    *,
    subject: str,
    email: str,
    email_verified: bool,
    name: str | None,
    groups: list[str],
    mfa: bool,
) -> SsoOutcome:
    """Sign in (or provision, ask to link, or refuse) the person a verified answer of
    ``provider`` names. ``mfa``: the provider asserted a multi-factor sign-in (OIDC ``amr``
    holding ``mfa``, or an equivalent SAML AuthnContext); staff and admins skip our TOTP only
    when it is set and the admin trusts the provider for it."""
    assertion = Assertion(
        subject=subject,
        email=(email or "").strip().lower(),
        email_verified=email_verified,
        name=name,
        groups=[g for g in groups if isinstance(g, str)],
        mfa=mfa,
    )
    decision = accounts.decide(db.session, current_caller(), provider, assertion)
    next_url = session.pop("sso_next", None)
    user = decision.user
    if decision.result == Result.REFUSED or user is None:
        session.clear()
        return SsoOutcome(
            "refused", decision.message, refused_page(decision.message), reason=decision.reason
        )
    if decision.result == Result.LINK_REQUIRED:
        session.clear()
        session["sso_link"] = {
            "provider": provider.id,
            "subject": assertion.subject,
            "user": user.id,
            "mfa": assertion.mfa,
            "started": time.time(),
            "next": next_url,
        }
        return SsoOutcome(
            "link_required", decision.message, redirect(url_for("sso.link")), user_id=user.id
        )
    if accounts.needs_totp(db.session, user, decision):
        return SsoOutcome(
            "mfa_required",
            "Enter your authentication code.",
            start_second_factor(user, next_url),
            user_id=user.id,
            provisioned=decision.provisioned,
        )
    return SsoOutcome(
        "signed_in",
        decision.message,
        finish_sign_in(user, next_url, via_sso=True, mfa_by_idp=decision.mfa_by_idp),
        user_id=user.id,
        provisioned=decision.provisioned,
    )
