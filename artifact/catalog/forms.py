"""Forms of the catalog pages (each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from artifact.models import Agreement
from artifact.models.catalog import CATEGORY_LABELS, Visibility

CATEGORY_CHOICES = [SelectChoice(c.value, label) for c, label in CATEGORY_LABELS.items()]
VISIBILITY_CHOICES = [SelectChoice(v.value, v.value.capitalize()) for v in Visibility]


class ReportForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    category = SelectField("Category", choices=CATEGORY_CHOICES)
    series = StringField("Series (e.g. SOC, ISO, PCI)", validators=[Optional(), Length(max=80)])
    issuer = StringField("Issuer", validators=[Optional(), Length(max=200)])
    product = StringField("Product", validators=[Optional(), Length(max=200)])
    frameworks = StringField(
        "Frameworks (comma-separated)", validators=[Optional(), Length(max=2000)]
    )
    period_start = DateField("Period start", validators=[Optional()])
    period_end = DateField("Period end", validators=[Optional()])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10000)])
    visibility = SelectField("Visibility", choices=VISIBILITY_CHOICES, default="restricted")
    terms_agreement_id = SelectField("Terms to accept before download", choices=[])


class UploadForm(FlaskForm):
    file = FileField("PDF file", validators=[FileRequired()])
    release_notes = TextAreaField(
        "Release notes: what changed (optional)", validators=[Optional(), Length(max=2000)]
    )


class TermsForm(FlaskForm):
    terms_agreement_id = SelectField("Terms to accept before download", choices=[])


def set_agreement_choices(field: SelectField, agreements: list[Agreement]) -> None:
    field.choices = [SelectChoice("", "None")] + [
        SelectChoice(a.id, f"{a.title} (version {a.current.number})")
        for a in agreements
        if a.versions
    ]


class StateForm(FlaskForm):
    state = SelectField(
        "State",
        choices=[
            SelectChoice("published", "Publish"),
            SelectChoice("outdated", "Mark outdated"),
            SelectChoice("retired", "Retire"),
            SelectChoice("draft", "Back to draft"),
        ],
    )


class GrantForm(FlaskForm):
    scope = SelectField(
        "Scope",
        choices=[
            SelectChoice("report", "This report"),
            SelectChoice("series", "Its series"),
            SelectChoice("category", "Its category"),
        ],
    )
    user = StringField("User e-mail", validators=[Optional(), Length(max=320)])
    organization = StringField("or organisation", validators=[Optional(), Length(max=200)])
    expires_at = DateField("Expires (optional)", validators=[Optional()])


class AccessRequestForm(FlaskForm):
    report_id = StringField("Report", validators=[Optional(), Length(max=32)])
    series = StringField("Series", validators=[Optional(), Length(max=80)])
    category = SelectField(
        "Category", choices=[SelectChoice("", "(any)"), *CATEGORY_CHOICES], validators=[Optional()]
    )
    message = TextAreaField("Why do you need access?", validators=[Optional(), Length(max=2000)])


class DecisionForm(FlaskForm):
    expires_at = DateField("Access expires (optional)", validators=[Optional()])
