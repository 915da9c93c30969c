"""Forms of the webhook admin pages (each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from artifact.infra.webhook_http import URL_MAX
from artifact.webhooks.services.events import EVENT_TYPES


class EventsField(SelectMultipleField):
    """Event types as a list of check boxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _at_least_one(form: FlaskForm, field: SelectMultipleField) -> None:
    """Like DataRequired, without the ``required`` attribute a browser would put on every
    check box (it would then demand all of them)."""
    if not field.data:
        raise ValidationError("Choose at least one event.")


class EndpointForm(FlaskForm):
    url = StringField("Receiver URL (https://)", validators=[DataRequired(), Length(max=URL_MAX)])
    events = EventsField(
        "Events to send",
        choices=[SelectChoice(event, event) for event in EVENT_TYPES],
        validators=[_at_least_one],
    )


class ConfirmForm(FlaskForm):
    """A button that confirms (the CSRF token is the whole form)."""
