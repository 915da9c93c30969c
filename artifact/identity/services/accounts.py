"""Organisations and users: creation, roles, disabling, passwords."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from artifact import policy
from artifact.audit.services import chain as audit
from artifact.extensions import passwords
from artifact.identity.services import sessions, tokens
from artifact.kernel import uow
from artifact.kernel.caller import Caller
from artifact.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from artifact.kernel.text import one_line
from artifact.models import Organization, Role, User
from artifact.models.base import DbSession, utcnow

EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")
PASSWORD_MIN, PASSWORD_MAX = 12, 128
NAME_MAX = 200


def normalize_email(email: str) -> str:
    cleaned = (email or "").strip().lower()
    if len(cleaned) > 320 or not EMAIL_RE.match(cleaned):
        raise ValidationFailed(f"{email!r} is not a valid e-mail address")
    return cleaned


def check_password_rules(password: str, user_inputs: list[str] | None = None) -> None:
    """Length and guessability (NIST SP 800-63B): no composition rules."""
    if not password:
        raise ValidationFailed("the password is empty")
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(f"the password must have at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed(f"the password must have at most {PASSWORD_MAX} characters")
    from artifact.kernel.passwords import weakness

    problem = weakness(password, user_inputs)
    if problem:
        raise ValidationFailed(problem)


def _clean_name(name: str, what: str) -> str:
    cleaned = one_line(name or "", f"{what} name")
    if not cleaned:
        raise ValidationFailed(f"the {what} name is empty")
    if len(cleaned) > NAME_MAX or any(ord(c) < 32 for c in cleaned):
        raise ValidationFailed(f"the {what} name is too long or holds control characters")
    return cleaned


def find_organization(db: DbSession, name: str) -> Organization | None:
    return db.scalar(select(Organization).where(func.lower(Organization.name) == name.lower()))


def create_organization(db: DbSession, caller: Caller, name: str) -> Organization:
    """Raises PermissionDenied, ValidationFailed, Conflict."""
    policy.require(caller, "organization.create")
    name = _clean_name(name, "organisation")
    if find_organization(db, name) is not None:
        raise Conflict(f"an organisation named {name!r} already exists")
    org = Organization(name=name)
    db.add(org)
    db.flush()
    audit.record(
        db,
        caller,
        "organization.create",
        target_type="organization",
        target_id=org.id,
        details={"name": name},
    )
    return org


def create_user(
    db: DbSession,
    caller: Caller,
    *,
    email: str,
    role: str,
    password: str,
    name: str = "",
    organization: str | None = None,
    org_admin: bool = False,
    create_organization_if_missing: bool = False,
) -> User:
    """Create an account. Raises PermissionDenied, ValidationFailed, Conflict; creates nothing
    when it raises."""
    policy.require(caller, "user.create")
    if role not in {r.value for r in Role}:
        raise ValidationFailed(
            f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}"
        )
    email = normalize_email(email)
    check_password_rules(password, [email, name])
    display = one_line(name or "", "name")[:NAME_MAX]
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    org = None
    if organization:
        org = find_organization(db, _clean_name(organization, "organisation"))
        if org is None:
            if not create_organization_if_missing:
                raise NotFound(f"no organisation named {organization!r}")
            org = Organization(name=_clean_name(organization, "organisation"))
            db.add(org)
            db.flush()
            audit.record(
                db,
                caller,
                "organization.create",
                target_type="organization",
                target_id=org.id,
                details={"name": org.name},
            )
    if org_admin and org is None:
        raise ValidationFailed("an organisation admin needs an organisation")
    user = User(
        email=email,
        name=display,
        role=role,
        organization=org,
        is_org_admin=org_admin,
        password_hash=passwords.hash(password),
        password_changed_at=utcnow(),
    )
    db.add(user)
    db.flush()
    audit.record(
        db,
        caller,
        "user.create",
        target_type="user",
        target_id=user.id,
        details={
            "email": email,
            "role": role,
            "organization": org.name if org else None,
            "org_admin": org_admin,
        },
    )
    return user


def get_user(db: DbSession, caller: Caller, user_id: str) -> User:
    """Raises NotFound for a user that does not exist or that ``caller`` may not see."""
    user = db.get(User, user_id)
    if user is None or not policy.decide(caller, "user.view", user):
        raise NotFound("no such user")
    return user


def set_role(db: DbSession, caller: Caller, user: User, role: str) -> None:
    """Raises PermissionDenied, ValidationFailed."""
    policy.require(caller, "user.set_role", user)
    if role not in {r.value for r in Role}:
        raise ValidationFailed(f"unknown role {role!r}")
    if caller.user_id == user.id and role != user.role:
        raise ValidationFailed("you cannot change your own role")
    old = user.role
    user.role = role
    audit.record(
        db,
        caller,
        "user.set_role",
        target_type="user",
        target_id=user.id,
        details={"from": old, "to": role},
    )
    # Privileges changed: existing sessions and tokens were made under the old role (a token
    # would gain staff power without the second factor).
    sessions.end_all(db, user, reason="role_changed")
    if role != old:
        tokens.revoke_all(db, caller, user, reason="role_changed")


def set_disabled(db: DbSession, caller: Caller, user: User, disabled: bool) -> None:
    """Disable (ending every session at once) or re-enable an account."""
    policy.require(caller, "user.disable", user)
    if caller.user_id == user.id:
        raise ValidationFailed("you cannot disable your own account")
    user.disabled_at = utcnow() if disabled else None
    audit.record(
        db,
        caller,
        "user.disable" if disabled else "user.enable",
        target_type="user",
        target_id=user.id,
    )
    if disabled:
        sessions.end_all(db, user, reason="disabled")
        tokens.revoke_all(db, caller, user, reason="disabled")  # enabling revives none


def change_password(
    db: DbSession, caller: Caller, user: User, current: str, new: str, keep_session_id: str | None
) -> None:
    """Raises PermissionDenied (wrong current password, recorded durably: the refusal is kept
    when the owner rolls the request back), ValidationFailed. Ends every other session of the
    user."""
    if not passwords.verify(user.password_hash, current):
        user_id = user.id
        uow.durable(
            db,
            lambda session: audit.record(
                session,
                caller,
                "user.change_password",
                target_type="user",
                target_id=user_id,
                outcome="failure",
                details={"reason": "wrong_current_password"},
            ),
        )
        raise PermissionDenied("the current password is wrong")
    check_password_rules(new)
    set_password(db, caller, user, new, keep_session_id=keep_session_id)


def set_password(
    db: DbSession, caller: Caller, user: User, new: str, keep_session_id: str | None = None
) -> None:
    check_password_rules(new, [user.email, user.name])
    user.password_hash = passwords.hash(new)
    user.password_changed_at = utcnow()
    audit.record(db, caller, "user.change_password", target_type="user", target_id=user.id)
    sessions.end_all(db, user, reason="password_changed", keep_id=keep_session_id)
    tokens.revoke_all(db, caller, user, reason="password_changed")
