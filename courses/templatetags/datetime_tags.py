"""Template filters that show dates and times the one way of the active language (see courses.dates)."""

from django import template

from courses.dates import date_display, datetime_display, time_display

register = template.Library()


@register.filter
def local_datetime(value) -> str:
    """``{{ attempt.started_at|local_datetime }}`` → "2 Desember 2026, 14.30 WITA"."""
    return datetime_display(value or None)


@register.filter
def local_date(value) -> str:
    """``{{ certificate.issued_at|local_date }}`` → "2 Desember 2026" (a moment's local day, or a date)."""
    return date_display(value or None)


@register.filter
def local_time(value) -> str:
    """``{{ attempt.expires_at|local_time }}`` → "14.30 WITA"."""
    return time_display(value or None)
