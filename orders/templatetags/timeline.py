"""How the order page's timeline shows values: every date and time in one format, with
the time zone."""

import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()

WHEN = "Y-m-d H:i:s T"


@register.filter
def shown(value):
    """A changed field's value as the timeline shows it: times as 2026-12-03 14:05:09
    UTC (in the site's time zone), dates as 2026-12-03, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), WHEN)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
