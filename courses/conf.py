"""App settings with defaults, read at call time so a host project can override them."""

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Folder holding one sub-folder per course (course.yaml, module folders).
    "CURRICULUM_DIR": Path(__file__).resolve().parent / "curriculum",
    # Name of the group whose members (and superusers) manage cohorts.
    "OPERATORS_GROUP": "operators",
    # Enrolment file limits.
    "IMPORT_MAX_BYTES": 5 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 20_000,
    # What an XLSX file may unpack to, so that a small hostile file (a zip bomb, millions of empty
    # rows or cells, one gigantic text) costs a worker seconds and megabytes, not minutes and
    # gigabytes. A real list of 20,000 participants unpacks to about 10 MB in some 200,000 cells.
    "IMPORT_MAX_UNPACKED_BYTES": 50 * 1024 * 1024,  # all the parts read, together
    "IMPORT_MAX_ZIP_MEMBERS": 1000,  # parts in the file (a workbook has a dozen or so)
    "IMPORT_MAX_CELLS": 500_000,  # cells in the sheet, empty ones included, and texts in the workbook
    "IMPORT_MAX_CELLS_PER_ROW": 50,  # the last column that may hold a value
    "IMPORT_MAX_CELL_CHARS": 2000,  # characters kept of one cell (the longest column allows 254)
    # How long an uploaded enrolment file waits for the operator's confirmation before the purge
    # deletes it (it holds personal data; confirming, cancelling or a failed import delete it at once).
    "IMPORT_STAGED_MAX_AGE_SECONDS": 2 * 60 * 60,
    # Rows written per INSERT/UPDATE statement when importing.
    "IMPORT_BATCH_SIZE": 1000,
    # From how many new rows of a table the import writes them with COPY (PostgreSQL), not INSERTs.
    "IMPORT_COPY_MIN_ROWS": 500,
    # Enrolments whose progress a CSV report builds at a time while it streams.
    "PROGRESS_CHUNK_SIZE": 2000,
    # How long the link in an invitation email stays valid.
    "INVITATION_TIMEOUT_DAYS": 14,
    # The invitation sweep re-sends invitations that never went out (a lost message), for accounts
    # older than the grace (the normal path's time) and younger than the window.
    "INVITATION_SWEEP_GRACE_SECONDS": 300,
    "INVITATION_SWEEP_DAYS": 7,
    # The help sweep re-sends the operator's "needs help" emails that never went out (a lost message)
    # for flags older than the grace and younger than the window.
    "HELP_SWEEP_GRACE_SECONDS": 300,
    "HELP_SWEEP_DAYS": 7,
    # Password-reset emails sent to one address within the window (further requests send none).
    "PASSWORD_RESET_EMAILS": 3,
    "PASSWORD_RESET_WINDOW_SECONDS": 60 * 60,
    # The scheduled reminder to participants behind pace: every so many days per running cohort
    # (each cohort can switch it off). The beat entry runs daily and sends to the cohorts due.
    "REMINDER_EVERY_DAYS": 7,
}


def courses_setting(name: str) -> Any:
    """Return ``COURSES_<name>`` from the host settings, or this app's default."""
    return getattr(settings, f"COURSES_{name}", DEFAULTS[name])


# Where the site is served, for links in emails and certificates: the project-wide ``SITE_URL``.
DEFAULT_SITE_URL = "http://127.0.0.1:8000"


def site_url() -> str:
    """``SITE_URL`` without its trailing slash (every app's absolute links start with it)."""
    return getattr(settings, "SITE_URL", DEFAULT_SITE_URL).rstrip("/")


# The periodic tasks a host's Celery beat must run (``CELERY_BEAT_SCHEDULE``; courses.W002 warns when
# one is missing). The staged-upload purge is the only deletion path for abandoned files holding
# personal data.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "courses-invitations-sweep": {"task": "courses.tasks.invitations_sweep_task", "schedule": 600.0},
    "courses-enrollment-uploads-purge": {"task": "courses.tasks.enrollment_uploads_purge_task", "schedule": 900.0},
    "courses-help-sweep": {"task": "courses.tasks.module_help_sweep_task", "schedule": 600.0},
    "courses-reminders": {"task": "courses.tasks.reminders_schedule_task", "schedule": 6 * 60 * 60.0},
}

# What members of the operators group (``OPERATORS_GROUP``) may do with this app's models, as
# {model: actions}; synced into the group after every migrate (courses.groups).
OPERATOR_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "course": ("view",),
    "module": ("view",),
    "lesson": ("view",),
    "cohort": ("add", "change", "view"),
    "enrollment": ("add", "change", "delete", "view"),
    "auditentry": ("view",),
    "participantmessage": ("view",),
    "participantprofile": ("add", "change", "view"),
    "actionplan": ("view",),
}
