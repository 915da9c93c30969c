"""Forms of the evidence pages (each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

REQUIREMENTS_HINT = "One per line or comma-separated, as framework:ref, e.g. iso27001-2022:A.5.15"
FILE_HINT = "PDF, PNG, JPEG, CSV, XLSX, DOCX or plain text (UTF-8); the content decides."


class EvidenceForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10000)])
    owner = StringField(
        "Owner (a staff member's e-mail; you if empty)", validators=[Optional(), Length(max=320)]
    )
    effective_date = DateField(
        "Effective date (when it was collected)", validators=[DataRequired()]
    )
    expires_on = DateField("Expiry or review date", validators=[Optional()])
    requirements = TextAreaField(
        "Requirements it addresses", validators=[Optional(), Length(max=20000)]
    )
    file = FileField("File", validators=[FileRequired()])


class VersionForm(FlaskForm):
    file = FileField("File", validators=[FileRequired()])
    effective_date = DateField("Effective date (if newly collected)", validators=[Optional()])
    expires_on = DateField("New expiry or review date", validators=[Optional()])


class LinksForm(FlaskForm):
    requirements = TextAreaField(
        "Requirements it addresses", validators=[Optional(), Length(max=20000)]
    )


class ActionForm(FlaskForm):
    note = StringField("Note (optional)", validators=[Optional(), Length(max=2000)])
