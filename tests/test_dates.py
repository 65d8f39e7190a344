"""Dates and times read one way per language, every time with its zone (WIB, WITA, WIT or the zone's name)."""

import datetime
import zoneinfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from courses.dates import date_display, datetime_display, time_display, zone_abbreviation

WITA = zoneinfo.ZoneInfo("Asia/Makassar")
MOMENT = datetime.datetime(2026, 12, 2, 14, 30, tzinfo=WITA)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("id", "2 Desember 2026, 14.30 WITA"), ("en", "2 December 2026, 14:30 WITA")],
)
def test_a_moment_reads_in_the_language_with_its_zone(language, expected):
    with translation.override(language):
        assert datetime_display(MOMENT) == expected
        # The same moment stored in UTC reads the same: it is shown in the active time zone.
        assert datetime_display(MOMENT.astimezone(datetime.UTC)) == expected


@pytest.mark.parametrize(
    ("language", "date", "time"),
    [("id", "2 Desember 2026", "09.05 WITA"), ("en", "2 December 2026", "09:05 WITA")],
)
def test_dates_and_times_alone(language, date, time):
    morning = datetime.datetime(2026, 12, 2, 1, 5, tzinfo=datetime.UTC)  # 09.05 WITA
    with translation.override(language):
        assert date_display(morning) == date
        assert date_display(datetime.date(2026, 12, 2)) == date
        assert time_display(morning) == time


def test_the_calendar_day_is_the_local_one():
    late_utc = datetime.datetime(2026, 12, 1, 17, 0, tzinfo=datetime.UTC)  # 1.00 WITA on 2 December
    with translation.override("id"):
        assert date_display(late_utc) == "2 Desember 2026"


@pytest.mark.parametrize(
    ("zone", "abbreviation", "clock"),
    [
        ("Asia/Jakarta", "WIB", "13.30"),
        ("Asia/Pontianak", "WIB", "13.30"),
        ("Asia/Makassar", "WITA", "14.30"),
        ("Asia/Jayapura", "WIT", "15.30"),
        ("Europe/Amsterdam", "CET", "07.30"),
        ("UTC", "UTC", "06.30"),
    ],
)
def test_the_zone_is_the_active_one(zone, abbreviation, clock):
    with timezone.override(zoneinfo.ZoneInfo(zone)), translation.override("id"):
        assert zone_abbreviation(MOMENT) == abbreviation
        assert time_display(MOMENT) == f"{clock} {abbreviation}"


def test_template_filters():
    template = Template(
        "{% load datetime_tags %}{{ moment|local_datetime }} | {{ moment|local_date }} | {{ moment|local_time }}"
        " | {{ nothing|local_datetime }}|{{ day|local_date }}"
    )
    context = Context({"moment": MOMENT, "nothing": None, "day": datetime.date(2026, 3, 1)})
    with translation.override("id"):
        assert template.render(context) == "2 Desember 2026, 14.30 WITA | 2 Desember 2026 | 14.30 WITA | |1 Maret 2026"
    with translation.override("en"):
        assert template.render(context) == "2 December 2026, 14:30 WITA | 2 December 2026 | 14:30 WITA | |1 March 2026"


def test_djangos_own_formats_follow_the_same_rule():
    """The admin and anything using Django's DATE_FORMAT & co. read the same as the pages."""
    from django.utils import formats

    with translation.override("id"):
        assert formats.date_format(timezone.localtime(MOMENT), "DATETIME_FORMAT") == "2 Desember 2026, 14.30"
        assert formats.date_format(MOMENT.date()) == "2 Desember 2026"
    with translation.override("en"):
        assert formats.date_format(timezone.localtime(MOMENT), "DATETIME_FORMAT") == "2 December 2026, 14:30"
        assert formats.time_format(MOMENT.time()) == "14:30"
