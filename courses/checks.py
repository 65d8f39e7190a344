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


checks.register(missing_required_apps)
checks.register(login_failures_unshared, checks.Tags.security, checks.Tags.caches)
