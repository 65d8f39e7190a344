"""System checks shared by the apps: each declares the apps it needs installed."""

from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

# Caches each process keeps for itself (or not at all): counts there are not shared between web processes.
_PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def missing_required_apps(app_configs: Iterable | None = None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for config in apps.get_app_configs():
        for required in getattr(config, "required_apps", ()):
            if not apps.is_installed(required):
                errors.append(
                    checks.Error(
                        f"'{config.name}' needs '{required}' in INSTALLED_APPS.",
                        id="courses.E001",
                    )
                )
    return errors


def login_failures_unshared(app_configs: Iterable | None = None, **kwargs) -> list[checks.CheckMessage]:
    """Warn when failed sign-ins are counted by a cache handler in a cache each process keeps for itself.

    axes warns about this for its own handler class only (axes.W001), not for a subclass such as
    ``courses.auth_limits.LoginAttemptsCacheHandler``. A local run (DEBUG, one process) is left alone.
    """
    if settings.DEBUG or not apps.is_installed("axes"):
        return []
    from axes.handlers.cache import AxesCacheHandler

    try:
        handler = import_string(getattr(settings, "AXES_HANDLER", ""))
    except ImportError:
        return []
    if not (isinstance(handler, type) and issubclass(handler, AxesCacheHandler)) or handler is AxesCacheHandler:
        return []
    backend = settings.CACHES.get(getattr(settings, "AXES_CACHE", "default"), {}).get("BACKEND", "")
    if backend not in _PROCESS_LOCAL_CACHES:
        return []
    return [
        checks.Warning(
            "Failed sign-ins are counted in a cache each process keeps for itself: with several web "
            "processes each counts on its own, and the limit multiplies.",
            hint="Point the cache axes uses (AXES_CACHE, else 'default') at Redis shared by every web process.",
            id="courses.W001",
        )
    ]


def periodic_tasks_unscheduled(app_configs: Iterable | None = None, **kwargs) -> list[checks.CheckMessage]:
    """Warn for each periodic task an installed app declares (``beat_schedule`` on its AppConfig, from
    its ``conf.BEAT_SCHEDULE``) that ``CELERY_BEAT_SCHEDULE`` does not run, whatever the entry's key.

    Without them lost messages are never caught up, expired attempts never closed, and abandoned
    enrolment files (personal data) never deleted."""
    scheduled = {entry.get("task") for entry in (getattr(settings, "CELERY_BEAT_SCHEDULE", None) or {}).values()}
    warnings: list[checks.CheckMessage] = []
    for config in apps.get_app_configs():
        for key, entry in (getattr(config, "beat_schedule", None) or {}).items():
            if entry["task"] not in scheduled:
                warnings.append(
                    checks.Warning(
                        f"The periodic task '{entry['task']}' of '{config.name}' is not in CELERY_BEAT_SCHEDULE, "
                        "so Celery beat never runs it.",
                        hint=f"Add {config.name}.conf.BEAT_SCHEDULE['{key}'] (or all of {config.name}.conf."
                        "BEAT_SCHEDULE) to CELERY_BEAT_SCHEDULE.",
                        id="courses.W002",
                    )
                )
    return warnings


def user_email_index_missing(
    app_configs: Iterable | None = None, databases: Iterable | None = None, **kwargs
) -> list[checks.CheckMessage]:
    """On PostgreSQL (asked by ``check --database`` and by ``migrate``), warn when the user table has no
    index on lower(email): the enrolment import then reads that table whole once per file."""
    if not databases:
        return []
    from django.db import DatabaseError

    from .user_email_index import IndexState, index_state

    try:
        state = index_state()
    except DatabaseError:  # not migrated yet, or unreachable: other checks and commands say so
        return []
    if state not in (IndexState.MISSING, IndexState.INVALID):
        return []
    return [
        checks.Warning(
            f"The user table has no usable index on lower(email) ({state.value}): each enrolment import "
            "reads the table whole to find accounts by email, which grows with the number of users.",
            hint="Run `python manage.py indexuseremails` (it builds the index concurrently; the table stays writable).",
            id="courses.W003",
        )
    ]


checks.register(missing_required_apps)
checks.register(user_email_index_missing, checks.Tags.database)
checks.register(periodic_tasks_unscheduled)
checks.register(login_failures_unshared, checks.Tags.security, checks.Tags.caches)
