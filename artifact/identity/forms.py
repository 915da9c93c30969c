"""Forms of the identity features: second factor, e-mail verification, password reset."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class PasswordConfirmForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=1024)])


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app (or a recovery code)",
        validators=[DataRequired(), Length(max=40)],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "text",
            "autocapitalize": "off",
            "spellcheck": "false",
        },
    )


class SignUpForm(FlaskForm):
    email = EmailField("Work e-mail", validators=[DataRequired(), Length(max=320)])
    name = StringField("Your full name", validators=[DataRequired(), Length(max=200)])
    company = StringField("Company", validators=[DataRequired(), Length(max=200)])
    # No Length validator (see NewPasswordForm): the server's rule names the limits.
    password = PasswordField("Password", validators=[DataRequired()])


class ConfirmSignUpForm(FlaskForm):
    password = PasswordField("The password you chose", validators=[DataRequired()])


class ResetRequestForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=320)])


class NewPasswordForm(FlaskForm):
    # No Length validator: it would render maxlength and the browser would silently cut a
    # pasted longer password; the server's rule says "at most 128 characters" instead.
    password = PasswordField(
        "New password (12 to 128 characters)",
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password"},
    )
