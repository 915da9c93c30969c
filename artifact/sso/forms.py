"""Flask-WTF forms of single sign-on (every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


class LinkForm(FlaskForm):
    password = PasswordField(
        "Password of your account", validators=[DataRequired(), Length(max=1024)]
    )


class LookupForm(FlaskForm):
    email = EmailField("Work e-mail", validators=[DataRequired(), Length(max=320)])


class ProviderForm(FlaskForm):
    """An OpenID Connect or SAML provider (admins). Choices: the organisations."""

    protocol = SelectField(
        "Protocol",
        choices=[SelectChoice("oidc", "OpenID Connect"), SelectChoice("saml", "SAML 2.0")],
    )
    name = StringField(
        "Name shown on the sign-in page", validators=[DataRequired(), Length(max=200)]
    )
    organization = SelectField("Organisation", choices=[])
    domains = StringField(
        "E-mail domains (comma-separated)", validators=[DataRequired(), Length(max=2000)]
    )
    show_on_sign_in = BooleanField('Show a "Sign in with" button on the public sign-in page')
    require_sso = BooleanField("Members must sign in through this provider (passwords refused)")
    trust_idp_mfa = BooleanField("Trust the provider's multi-factor sign-in (staff skip our TOTP)")
    name_claim = StringField("Claim for the display name", validators=[Optional(), Length(max=100)])
    group_claim = StringField("Claim for groups", validators=[Optional(), Length(max=100)])
    group_roles = StringField(
        "Group to role (group=role, comma-separated)", validators=[Optional(), Length(max=2000)]
    )
    issuer = StringField("OIDC issuer URL", validators=[Optional(), Length(max=2000)])
    client_id = StringField("OIDC client id", validators=[Optional(), Length(max=400)])
    client_secret = PasswordField("OIDC client secret", validators=[Optional(), Length(max=600)])
    metadata_url = StringField("SAML metadata URL", validators=[Optional(), Length(max=2000)])
    metadata_xml = TextAreaField("SAML metadata XML", validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A button that changes state: CSRF only."""
