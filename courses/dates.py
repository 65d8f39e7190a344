"""Dates and times as people read them: the active language's format, and every time with its zone."""

import datetime

from django.utils import formats, timezone

# Indonesia's three zones by their official abbreviations, whatever the tz database spells.
INDONESIAN_ZONES = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Ujung_Pandang": "WITA",
    "Asia/Jayapura": "WIT",
}


def zone_abbreviation(value: datetime.datetime) -> str:
    """The active time zone's name for ``value``'s moment: WIB, WITA or WIT in Indonesia, the zone's tzname elsewhere."""
    zone = timezone.get_current_timezone()
    key = getattr(zone, "key", None)
    if key in INDONESIAN_ZONES:
        return INDONESIAN_ZONES[key]
    return timezone.localtime(value, zone).tzname() or str(zone)


def datetime_display(value: datetime.datetime | None) -> str:
    """A moment as "2 Desember 2026, 14.30 WITA" or "2 December 2026, 14:30 WITA"; "" for None."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {zone_abbreviation(local)}"


def time_display(value: datetime.datetime | None) -> str:
    """A moment's clock time with its zone: "14.30 WITA" or "14:30 WITA"; "" for None."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{formats.time_format(local, 'TIME_FORMAT')} {zone_abbreviation(local)}"


def date_display(value: datetime.date | datetime.datetime | None) -> str:
    """A moment's local calendar day, or a date as it is: "2 Desember 2026"; "" for None."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value)
    return formats.date_format(value, "DATE_FORMAT")
