"""Forms of the subscription page and the unsubscribe confirmation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SubscriptionForm(FlaskForm):
    all_reports = BooleanField("Every new report and version I may see")
    series = CheckboxList("Series", choices=[])
    categories = CheckboxList("Categories", choices=[])
    receive = CheckboxList("Other notifications", choices=[])
