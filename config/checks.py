"""System checks of the project's settings, and the startup check that makes the web server refuse them."""

import io
from collections.abc import Iterable

from django.core import checks

COLLECTSTATIC = "python manage.py collectstatic --noinput"


@checks.register()
def static_files_collected(app_configs: Iterable | None = None, **kwargs) -> list[checks.CheckMessage]:
    """With the manifest storage (production: DEBUG off) every ``{% static %}`` looks its file up in
    the manifest collectstatic writes, and raises for a file it lacks: without collectstatic every
    page is a 500, and after an upgrade without it every page using a new file is. Say so up front.

    Not tagged ``deploy``: it runs wherever the checks run (``check``, ``runserver``, ``migrate``,
    the web server's startup, see ``refuse_to_start_on_errors``), and is silent unless such a
    storage is configured. ``collectstatic`` itself runs only the staticfiles checks, not this one.
    """
    from django.apps import apps
    from django.contrib.staticfiles.finders import get_finders
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.files.storage import storages

    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin) or not storage.manifest_strict:
        return []
    backend = f"{type(storage).__module__}.{type(storage).__qualname__}"
    if not storage.manifest_storage.exists(storage.manifest_name):
        return [
            checks.Error(
                f"The static files have not been collected: {backend} (the storage used while DEBUG is off) "
                f"finds no {storage.manifest_name} in STATIC_ROOT ({storage.location}), so every page would "
                "answer 500.",
                hint=f"Run `{COLLECTSTATIC}` (with the same settings) before starting the web server.",
                id="config.E001",
            )
        ]
    hashed, _ = storage.load_manifest()
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    found = {path.replace("\\", "/") for finder in get_finders() for path, _ in finder.list(ignore)}
    missing = sorted(found - set(hashed))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        return [
            checks.Error(
                f"The collected static files are out of date: {storage.manifest_name} in STATIC_ROOT "
                f"({storage.location}) lacks {shown}, so pages using them would answer 500.",
                hint=f"Run `{COLLECTSTATIC}` again (with the same settings) before starting the web server.",
                id="config.E002",
            )
        ]
    return []


def refuse_to_start_on_errors() -> None:
    """Run the system checks as ``manage.py check`` does; raise SystemCheckError on any error.

    The WSGI and ASGI entry points call it when DEBUG is off: gunicorn runs no management command,
    so without it a misconfiguration surfaces only as 500s. Warnings are printed, not fatal.
    """
    from django.core.management import call_command

    call_command("check", fail_level="ERROR", stdout=io.StringIO())
