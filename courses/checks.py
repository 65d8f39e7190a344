"""System checks shared by the apps: each declares the apps it needs installed."""

from collections.abc import Iterable

from django.apps import apps
from django.core import checks


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


checks.register(missing_required_apps)
