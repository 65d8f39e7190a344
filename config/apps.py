"""The project's own app: registers the project-level system checks (config/checks.py)."""

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    verbose_name = "GCIO project"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
