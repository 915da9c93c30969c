"""Flask-WTF forms (every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from artifact.models import Role

ROLE_CHOICES = [SelectChoice(role.value, role.value.capitalize()) for role in Role]


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class ActionForm(FlaskForm):
    """A button that changes state: CSRF only."""


class OrganizationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])


class DomainForm(FlaskForm):
    """Choices: the organisations (ids) the admin page lists."""

    organization = SelectField("Organisation", choices=[])
    domain = StringField("Verified e-mail domain", validators=[Optional(), Length(max=253)])


class UserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=320)])
    name = StringField("Full name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    organization = SelectField("Organisation", choices=[], validate_choice=True)
    org_admin = BooleanField("May bind the organisation (org admin)")
    # No maxlength (a pasted longer password would be cut silently): the server says so.
    password = PasswordField("Initial password", validators=[DataRequired()])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(
        "New password (12 to 128 characters)",
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password"},
    )


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[Optional(), Length(max=100)])
