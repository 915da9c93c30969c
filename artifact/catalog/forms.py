"""Forms of the catalog pages (each carries a CSRF token)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from artifact.models import Agreement, Report, ReportCategory, ReportSeries
from artifact.models.catalog import Listing, Visibility

VISIBILITY_CHOICES = [SelectChoice(v.value, v.value.capitalize()) for v in Visibility]
LISTING_CHOICES = [
    SelectChoice(Listing.LISTED, "Listed in the catalog and search"),
    SelectChoice(Listing.HIDDEN, "Hidden: reached only by its link (staff still see it listed)"),
]
# The report fields the new-report and edit forms share (in the order they show them).
DETAIL_FIELDS = (
    "title",
    "category",
    "series",
    "issuer",
    "product",
    "frameworks",
    "period_start",
    "period_end",
    "issued_on",
    "valid_until",
    "description",
    "visibility",
    "listing",
    "bridges_report_id",
)


class ReportDetailsForm(FlaskForm):
    """A report's details (the edit form; the new-report form adds the terms)."""

    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    category = SelectField("Category", choices=[])
    series = SelectField("Series", choices=[], default="")
    issuer = StringField("Issuer", validators=[Optional(), Length(max=200)])
    product = StringField("Product", validators=[Optional(), Length(max=200)])
    frameworks = StringField(
        "Frameworks (comma-separated)", validators=[Optional(), Length(max=2000)]
    )
    period_start = DateField("Period start", validators=[Optional()])
    period_end = DateField("Period end", validators=[Optional()])
    issued_on = DateField("Issued on", validators=[Optional()])
    valid_until = DateField(
        "Valid until (empty: a certificate until its period ends, a report 12 months after)",
        validators=[Optional()],
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=10000)])
    visibility = SelectField("Visibility", choices=VISIBILITY_CHOICES, default="restricted")
    listing = SelectField("Listing", choices=LISTING_CHOICES, default="listed")
    bridges_report_id = SelectField(
        "Bridge letter for (the report it extends)", choices=[], default=""
    )

    def values(self) -> dict[str, object]:
        return {name: getattr(self, name).data for name in DETAIL_FIELDS}


class ReportForm(ReportDetailsForm):
    terms_agreement_id = SelectField("Terms to accept before download", choices=[])


def set_report_choices(
    form: ReportDetailsForm,
    categories: Iterable[ReportCategory],
    series: Iterable[ReportSeries],
    reports: Iterable[Report],
    exclude: str | None = None,
) -> None:
    """The lists a report form chooses from: categories, series and the reports a bridge
    letter may extend."""
    form.category.choices = category_choices(categories)
    form.series.choices = [SelectChoice("", "(none)"), *series_choices(series)]
    form.bridges_report_id.choices = [SelectChoice("", "(not a bridge letter)")] + [
        SelectChoice(r.id, r.title) for r in reports if r.id != exclude and not r.bridges_report_id
    ]


def category_choices(categories: Iterable[ReportCategory]) -> list[SelectChoice]:
    return [SelectChoice(c.slug, c.name) for c in categories]


def series_choices(series: Iterable[ReportSeries]) -> list[SelectChoice]:
    return [
        SelectChoice(s.slug, s.name if s.name == s.slug else f"{s.name} ({s.slug})") for s in series
    ]


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
    """Choices: ``set_request_choices`` (the page's form); a report's page posts its series."""

    report_id = StringField("Report", validators=[Optional(), Length(max=32)])
    series = StringField("Series", validators=[Optional(), Length(max=80)])
    category = StringField("Category", validators=[Optional(), Length(max=20)])
    message = TextAreaField("Why do you need access?", validators=[Optional(), Length(max=2000)])


class TaxonomyForm(FlaskForm):
    """A new category or series, or a change to one (the slug only when creating)."""

    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    slug = StringField("Slug (fixed once created)", validators=[Optional(), Length(max=80)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    position = IntegerField("Order", validators=[Optional(), NumberRange(0, 100_000)])


class ApprovalRuleForm(FlaskForm):
    """Choices: ``set_rule_choices`` (series, categories and agreements)."""

    domain = StringField("E-mail domain", validators=[Optional(), Length(max=253)])
    organization = StringField("or organisation", validators=[Optional(), Length(max=200)])
    series = SelectField("Series", choices=[], default="")
    category = SelectField("or category", choices=[], default="")
    expires_in_days = IntegerField(
        "Access ends after (days, optional)", validators=[Optional(), NumberRange(1, 3650)]
    )
    requires_agreement_id = SelectField("Only once accepted", choices=[], default="")


def set_rule_choices(
    form: ApprovalRuleForm,
    series: Iterable[ReportSeries],
    categories: Iterable[ReportCategory],
    agreements: Iterable[Agreement],
) -> None:
    form.series.choices = [SelectChoice("", "(none)"), *series_choices(series)]
    form.category.choices = [SelectChoice("", "(none)"), *category_choices(categories)]
    form.requires_agreement_id.choices = [SelectChoice("", "(no agreement needed)")] + [
        SelectChoice(a.id, a.title) for a in agreements
    ]


class DecisionForm(FlaskForm):
    expires_at = DateField("Access expires (optional)", validators=[Optional()])
