"""Administration: organisations, users, roles, disabling, tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from artifact import policy
from artifact.extensions import db
from artifact.identity.forms_sign_in import (
    ActionForm,
    DomainForm,
    OrganizationForm,
    RoleForm,
    UserForm,
)
from artifact.identity.services import accounts, organizations, tokens
from artifact.kernel.errors import Conflict, NotFound, ValidationFailed
from artifact.models import ApiToken, Organization, User
from artifact.web.access import require
from artifact.web.security import current_caller

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _user_form() -> UserForm:
    form = UserForm()
    orgs = db.session.scalars(
        policy.visible(select(Organization), current_caller(), Organization).order_by(
            Organization.name
        )
    ).all()
    form.organization.choices = [SelectChoice("", "(none)")] + [
        SelectChoice(org.name, org.name) for org in orgs
    ]
    return form


def _domain_form(orgs: list[Organization]) -> DomainForm:
    # Prefixed: the user form on the same page has its own "organization" field.
    form = DomainForm(prefix="domain")
    form.organization.choices = [SelectChoice(org.id, org.name) for org in orgs]
    return form


def _index(
    status: int = 200,
    user_form: UserForm | None = None,
    org_form: OrganizationForm | None = None,
    domain_form: DomainForm | None = None,
) -> tuple[str, int]:
    users = db.session.scalars(
        policy.visible(select(User), current_caller(), User).order_by(User.email)
    ).all()
    orgs = db.session.scalars(
        policy.visible(select(Organization), current_caller(), Organization).order_by(
            Organization.name
        )
    ).all()
    return render_template(
        "admin/index.html",
        users=users,
        organizations=orgs,
        user_form=user_form or _user_form(),
        org_form=org_form or OrganizationForm(),
        domain_form=domain_form or _domain_form(list(orgs)),
    ), status


@bp.get("/")
@require("admin.area")
def index() -> tuple[str, int]:
    """Users and organisations."""
    return _index()


@bp.post("/organizations")
@require("organization.create")
def create_organization() -> Response | tuple[str, int]:
    """Create an organisation."""
    form = OrganizationForm()
    if not form.validate_on_submit():
        flash("The organisation needs a name.", "error")
        return _index(400, org_form=form)
    try:
        org = accounts.create_organization(db.session, current_caller(), form.name.data or "")
    except (ValidationFailed, Conflict) as error:
        flash(f"Organisation not created: {error.message}.", "error")
        return _index(400, org_form=form)
    flash(f"Organisation {org.name} created.", "success")
    return redirect(url_for("admin.index"))


@bp.post("/organizations/domains")
@require("organization.manage")
def add_domain() -> Response | tuple[str, int]:
    """Mark an e-mail domain as verified for an organisation."""
    orgs = list(db.session.scalars(select(Organization).order_by(Organization.name)))
    form = _domain_form(orgs)
    if not form.validate_on_submit() or not form.domain.data:
        flash("Choose an organisation and give a domain such as example.com.", "error")
        return _index(400, domain_form=form)
    try:
        row = organizations.add_domain(
            db.session, current_caller(), form.organization.data or "", form.domain.data
        )
    except (ValidationFailed, Conflict, NotFound) as error:
        flash(f"Domain not added: {error.message}.", "error")
        return _index(400, domain_form=form)
    flash(f"{row.domain} is now a verified domain of {row.organization.name}.", "success")
    return redirect(url_for("admin.index"))


@bp.post("/organizations/<organization_id>/domains/<domain>/remove")
@require("organization.manage")
def remove_domain(organization_id: str, domain: str) -> Response:
    """Stop treating a domain as the organisation's."""
    if ActionForm().validate_on_submit():
        organizations.remove_domain(db.session, current_caller(), organization_id, domain)
        flash(f"{domain} is no longer a verified domain.", "success")
    return redirect(url_for("admin.index"))


@bp.post("/users")
@require("user.create")
def create_user() -> Response | tuple[str, int]:
    """Create a user."""
    form = _user_form()
    if not form.validate_on_submit():
        flash(
            "Check the form: "
            + "; ".join(
                f"{form[name].label.text}: {' '.join(errs)}" for name, errs in form.errors.items()
            ),
            "error",
        )
        return _index(400, user_form=form)
    try:
        user = accounts.create_user(
            db.session,
            current_caller(),
            email=form.email.data or "",
            role=form.role.data or "",
            password=form.password.data or "",
            name=form.name.data or "",
            organization=form.organization.data or None,
            org_admin=bool(form.org_admin.data),
        )
    except (ValidationFailed, Conflict, NotFound) as error:
        flash(f"User not created: {error.message}.", "error")
        return _index(400, user_form=form)
    flash(f"User {user.email} created.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.get("/users/<user_id>")
@require("admin.area")
def user_detail(user_id: str) -> str:
    """One user: role, state, tokens."""
    user = accounts.get_user(db.session, current_caller(), user_id)
    user_tokens = db.session.scalars(
        policy.visible(select(ApiToken), current_caller(), ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc())
    ).all()
    role_form = RoleForm(role=user.role)
    return render_template(
        "admin/user.html",
        user=user,
        tokens=user_tokens,
        role_form=role_form,
        action_form=ActionForm(),
    )


@bp.post("/users/<user_id>/role")
@require("user.set_role")
def set_role(user_id: str) -> Response:
    """Change a user's role (their sessions end)."""
    user = accounts.get_user(db.session, current_caller(), user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose a known role.", "error")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    try:
        accounts.set_role(db.session, current_caller(), user, form.role.data or "")
    except ValidationFailed as error:
        flash(f"Role not changed: {error.message}.", "error")
    else:
        flash(f"{user.email} is now {user.role}.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.get("/users/<user_id>/disable")
@require("user.disable")
def confirm_disable(user_id: str) -> str:
    """Ask before disabling a user (changes nothing)."""
    user = accounts.get_user(db.session, current_caller(), user_id)
    return render_template(
        "confirm.html",
        confirm_title=f"Disable {user.email}?",
        consequences=[
            f"{user.display_name} is signed out everywhere at once and can no longer sign in.",
            "Every API token of the account stops working and is revoked.",
            "Their records (acceptances, downloads, audit events) are kept. An admin can "
            "enable the account again; revoked tokens stay revoked.",
        ],
        confirm_action=url_for("admin.disable_user", user_id=user.id),
        confirm_button="Disable account",
        cancel_url=url_for("admin.user_detail", user_id=user.id),
    )


@bp.post("/users/<user_id>/disable")
@require("user.disable")
def disable_user(user_id: str) -> Response:
    """Disable a user: every session and token stops working at once."""
    return _set_disabled(user_id, True)


@bp.post("/users/<user_id>/enable")
@require("user.disable")
def enable_user(user_id: str) -> Response:
    """Re-enable a user."""
    return _set_disabled(user_id, False)


def _set_disabled(user_id: str, disabled: bool) -> Response:
    user = accounts.get_user(db.session, current_caller(), user_id)
    try:
        accounts.set_disabled(db.session, current_caller(), user, disabled)
    except ValidationFailed as error:
        flash(f"Not changed: {error.message}.", "error")
    else:
        flash(f"{user.email} is {'disabled' if disabled else 'enabled'}.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.get("/tokens/<token_id>/revoke")
@require("token.revoke_any")
def confirm_revoke_token(token_id: str) -> str:
    """Ask before revoking a user's API token (changes nothing)."""
    token = tokens.get_token(db.session, current_caller(), token_id)
    return render_template(
        "confirm.html",
        confirm_title=f"Revoke token {token.prefix}\u2026 of {token.user.email}?",
        consequences=[
            f"Programs using the token \u201c{token.name or token.prefix}\u201d get 401 from "
            "now on.",
            "A revoked token cannot be restored; the owner creates a new one.",
        ],
        confirm_action=url_for("admin.revoke_token", token_id=token.id),
        confirm_button="Revoke token",
        cancel_url=url_for("admin.user_detail", user_id=token.user_id),
    )


@bp.post("/tokens/<token_id>/revoke")
@require("token.revoke_any")
def revoke_token(token_id: str) -> Response:
    """Revoke any user's API token."""
    token = tokens.revoke(db.session, current_caller(), token_id)
    flash(f"Token {token.prefix}… revoked.", "success")
    return redirect(url_for("admin.user_detail", user_id=token.user_id))
