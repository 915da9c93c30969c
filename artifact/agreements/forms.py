"""Forms of the agreement pages (each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from artifact.agreements.services.agreements import KINDS, TEXT_MAX

SCOPE_CHOICES = [
    SelectChoice("account", "Just me (my account)"),
    SelectChoice("organization", "My whole organisation (binds every member)"),
]


class AcceptForm(FlaskForm):
    typed_name = StringField(
        "Type your full name to sign", validators=[DataRequired(), Length(max=200)]
    )
    consent = BooleanField(
        "I have read this agreement and I accept it", validators=[DataRequired()]
    )
    scope = SelectField("Accept for", choices=SCOPE_CHOICES, default="account")
    version = HiddenField(validators=[DataRequired()])
    text_sha256 = HiddenField(validators=[DataRequired(), Length(max=64)])
    next = HiddenField(validators=[Optional(), Length(max=2000)])


class TerminateForm(FlaskForm):
    scope = HiddenField(validators=[DataRequired()])
    reason = StringField("Reason (optional)", validators=[Optional(), Length(max=500)])


class AgreementForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice(kind, kind.upper() if kind != "terms" else "Terms") for kind in KINDS
        ],
    )
    text = TextAreaField(
        "Text (plain text; a blank line starts a new paragraph)",
        validators=[DataRequired(), Length(max=TEXT_MAX)],
    )


class VersionForm(FlaskForm):
    text = TextAreaField(
        "Text of the new version", validators=[DataRequired(), Length(max=TEXT_MAX)]
    )
