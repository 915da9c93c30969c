"""Self sign-up (as Cognito's: an e-mailed confirmation link before the account is usable).

Whoever signs up gets the same answer whether or not the address has an account: a new address
gets an account (a customer, no organisation yet) and a confirmation link; a known one gets a
mail saying someone tried to sign up with it. Until the link is used the account cannot sign in
and belongs to no organisation, so it sees nothing restricted; on confirmation it joins the
organisation that verified its domain, if any. Free-mail domains can be refused by setting."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from artifact.audit.services import chain as audit
from artifact.extensions import passwords
from artifact.identity.services import email_links
from artifact.identity.services.accounts import (
    NAME_MAX,
    check_password_rules,
    normalize_email,
)
from artifact.identity.services.lookup import user_by_email
from artifact.identity.services.organizations import email_domain
from artifact.kernel.caller import Caller
from artifact.kernel.errors import ValidationFailed
from artifact.kernel.text import one_line
from artifact.models import Role, User
from artifact.models.base import DbSession, utcnow

# Common free-mail providers (consumer addresses): refused when ARTIFACT_SIGNUP_BLOCK_FREEMAIL
# is on, as trust centers ask for a work address.
FREE_MAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
        "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com",
        "mail.ru", "yandex.ru", "yandex.com", "qq.com", "163.com", "126.com", "zoho.com",
        "tutanota.com", "fastmail.com", "hey.com",
    }
)  # fmt: skip


SIGNED_UP = (
    "Check your inbox: we sent a link to confirm your address (it works once, for 24 hours). "
    "Your account opens once the address is confirmed."
)


@dataclass(frozen=True)
class SignUp:
    """What to mail: to ``user``, a confirmation ``token`` (new account), or, when the address
    already had an account, a notice (``token`` None)."""

    user: User
    token: str | None


def sign_up(
    db: DbSession,
    caller: Caller,
    *,
    email: str,
    name: str,
    company: str,
    password: str,
    block_freemail: bool = False,
) -> SignUp | None:
    """Raises ValidationFailed for a bad field (saying which, never whether the address is
    known). Returns what to mail, or None (a disabled account: nothing is sent)."""
    address = normalize_email(email)
    display = one_line(name or "", "name")
    if not display:
        raise ValidationFailed("your name is empty")
    if len(display) > NAME_MAX:
        raise ValidationFailed(f"your name is longer than {NAME_MAX} characters")
    firm = one_line(company or "", "company")
    if not firm:
        raise ValidationFailed("the company is empty")
    if len(firm) > NAME_MAX:
        raise ValidationFailed(f"the company name is longer than {NAME_MAX} characters")
    if block_freemail and email_domain(address) in FREE_MAIL:
        raise ValidationFailed("sign up with your work e-mail address, not a personal one")
    check_password_rules(password, [address, display, firm])
    existing = user_by_email(db, address)
    if existing is not None and awaiting_confirmation(existing) and existing.is_active:
        # Signed up before, never confirmed: a fresh link (the earlier ones stop working).
        # Nothing else changes: confirming asks for the password chosen the first time.
        passwords.hash(secrets.token_urlsafe(16))
        return SignUp(existing, email_links.request_verification(db, caller, existing))
    if existing is not None:
        passwords.hash(secrets.token_urlsafe(16))  # the same work as for a new account
        audit.record(
            db,
            caller,
            "user.signup",
            target_type="user",
            target_id=existing.id,
            outcome="failure",
            details={"reason": "address_taken"},
        )
        return SignUp(existing, None) if existing.is_active else None
    user = User(
        email=address,
        name=display,
        company=firm,
        role=Role.CUSTOMER,
        self_registered=True,
        password_hash=passwords.hash(password),
        password_changed_at=utcnow(),
    )
    db.add(user)
    db.flush()
    audit.record(
        db,
        caller,
        "user.signup",
        target_type="user",
        target_id=user.id,
        details={"company": firm, "domain": email_domain(address)},
    )
    token = email_links.request_verification(db, caller, user)
    return SignUp(user, token)


def awaiting_confirmation(user: User) -> bool:
    """A signed-up account whose address is not confirmed yet may not sign in."""
    return user.self_registered and user.email_verified_at is None
