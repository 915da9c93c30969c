"""Forms of the engagement pages (each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

AUDITORS_HINT = "E-mail addresses of auditors of that firm, one a line or separated by commas."
REQUIREMENTS_HINT = (
    "Requirement names inside the engagement's scope, such as iso27001-2022:A.5.15, one a "
    "line or separated by commas (optional)."
)
CSV_HINT = (
    "Columns: ref, title, description, requirements, due_on (YYYY-MM-DD), sample_size; "
    "status, owner and evidence are read and ignored. Rows whose ref is already on the list "
    "are left as they are. If any row is wrong nothing is imported."
)


class EngagementForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    organization = StringField("Audit firm (organisation)", validators=[DataRequired()])
    framework = SelectField("Framework under audit", validators=[Optional()])
    requirements = TextAreaField(
        "Or these requirements", validators=[Optional(), Length(max=100_000)]
    )
    period_start = DateField("Period under audit: from", validators=[DataRequired()])
    period_end = DateField("Period under audit: to", validators=[DataRequired()])
    starts_on = DateField("Auditors' access starts on", validators=[DataRequired()])
    ends_on = DateField("Auditors' access ends on", validators=[DataRequired()])
    auditors = TextAreaField("Auditors", validators=[DataRequired(), Length(max=20_000)])


class RequestForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    requirements = TextAreaField("Requirement refs", validators=[Optional(), Length(max=20_000)])
    due_on = DateField("Due on", validators=[Optional()])
    sample_size = IntegerField(
        "Sample size", validators=[Optional(), NumberRange(min=1, max=1_000_000)]
    )


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", validators=[DataRequired(), Length(max=10_000)])


class ReturnForm(FlaskForm):
    body = TextAreaField("What is missing", validators=[DataRequired(), Length(max=10_000)])


class OwnerForm(FlaskForm):
    owner = StringField(
        "Owner (a staff member's e-mail)", validators=[DataRequired(), Length(max=320)]
    )


class AttachForm(FlaskForm):
    evidence_id = SelectField(
        "Evidence in scope", validators=[DataRequired()], validate_choice=False
    )


class ImportForm(FlaskForm):
    file = FileField("Request list (CSV)", validators=[FileRequired()])


class PackageForm(FlaskForm):
    auditor = SelectField("For auditor", validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A button (the CSRF token is the whole form)."""
