"""Admin pages for identity providers: list, register, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from artifact.extensions import db
from artifact.identity.services import organizations
from artifact.infra.storage import store_for
from artifact.kernel import uow
from artifact.kernel.errors import Conflict, ValidationFailed
from artifact.sso.forms import ConfirmForm, ProviderForm
from artifact.sso.oidc_views import callback_url
from artifact.sso.services import providers
from artifact.web.access import require
from artifact.web.security import current_caller

bp = Blueprint("sso_admin", __name__, url_prefix="/admin/identity-providers")


def _form(form: ProviderForm | None = None) -> ProviderForm:
    form = form or ProviderForm()
    orgs = organizations.list_organizations(db.session, current_caller())
    form.organization.choices = [("", "None (a global provider)")] + [(o.id, o.name) for o in orgs]
    return form


def _index(form: ProviderForm | None = None, status: int = 200) -> Any:
    return render_template(
        "sso_admin/index.html",
        providers=providers.list_providers(db.session, current_caller()),
        form=_form(form),
        redirect_uri=callback_url(),
    ), status


@bp.get("/")
@require("identity_provider.manage")
def index() -> Any:
    """Registered identity providers and a form for a new one."""
    return _index()


def _group_roles(text: str) -> dict[str, str]:
    pairs = [p.strip() for p in text.split(",") if p.strip()]
    mapping: dict[str, str] = {}
    for pair in pairs:
        group, sep, role = pair.rpartition("=")
        if not sep or not group.strip():
            raise ValidationFailed(f"{pair!r} is not group=role")
        mapping[group.strip()] = role.strip()
    return mapping


def _body(form: ProviderForm) -> dict[str, Any]:
    body: dict[str, Any] = {
        "protocol": form.protocol.data,
        "name": form.name.data,
        "organization": form.organization.data or None,
        "domains": [d.strip() for d in (form.domains.data or "").split(",") if d.strip()],
        "require_sso": bool(form.require_sso.data),
        "show_on_sign_in": bool(form.show_on_sign_in.data),
        "trust_idp_mfa": bool(form.trust_idp_mfa.data),
        "name_claim": form.name_claim.data or None,
        "group_claim": form.group_claim.data or None,
        "group_roles": _group_roles(form.group_roles.data or ""),
    }
    for key in ("issuer", "client_id", "client_secret", "metadata_url", "metadata_xml"):
        value = getattr(form, key).data
        if value:
            body[key] = value
    return body


@bp.post("/")
@require("identity_provider.manage")
def create() -> Any:
    """Register a provider."""
    form = _form()
    if not form.validate_on_submit():
        flash("The provider needs a name and at least one e-mail domain.", "error")
        return _index(form, 400)
    try:
        provider = providers.create_provider(
            db.session,
            current_caller(),
            store_for(current_app).keyring,
            _body(form),
            production=current_app.config["ARTIFACT_ENV"] == "production",
        )
    except (ValidationFailed, Conflict) as error:
        uow.rollback(db.session)
        flash(f"Provider not registered: {error.message}.", "error")
        return _index(form, 409 if isinstance(error, Conflict) else 400)
    flash(f"Identity provider {provider.name} registered.", "success")
    return redirect(url_for("sso_admin.index"))


@bp.get("/<provider_id>/delete")
@require("identity_provider.manage")
def confirm_delete(provider_id: str) -> Any:
    """Ask before deleting."""
    providers.list_providers(db.session, current_caller())  # the policy's check
    provider = providers.active_provider(db.session, provider_id)
    return render_template("sso_admin/delete.html", provider=provider, form=ConfirmForm())


@bp.post("/<provider_id>/delete")
@require("identity_provider.manage")
def delete(provider_id: str) -> Any:
    """Stop signing in through a provider."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("Not deleted: the form expired; try again.", "error")
        return redirect(url_for("sso_admin.confirm_delete", provider_id=provider_id))
    provider = providers.delete_provider(db.session, current_caller(), provider_id)
    flash(f"Identity provider {provider.name} deleted.", "success")
    return redirect(url_for("sso_admin.index"))
