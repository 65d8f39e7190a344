"""App configuration for the course catalogue, participants and progress."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from .extensions import HostNeeds


class CoursesConfig(HostNeeds, AppConfig):
    name = "courses"
    verbose_name = _("Courses")
    default_auto_field = "django.db.models.BigAutoField"
    # What a host project must install beside this app (see checks.py).
    required_apps = (
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "rest_framework",
        "rest_framework.authtoken",
        # Counts failed sign-ins (see auth_limits.py); the host also adds its backend and middleware.
        "axes",
    )

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_delete, post_migrate, post_save

        from . import checks  # noqa: F401 - registers the system checks
        from .content_cache import content_model_changed
        from .groups import operators_group_sync
        from .models import Lesson, Module
        from .services.enrollment import email_key_sync

        post_migrate.connect(operators_group_sync, dispatch_uid="courses.operators_group_sync")
        # A participant's email changed in the admin (or anywhere the user is saved) moves the profile's key.
        post_save.connect(email_key_sync, sender=settings.AUTH_USER_MODEL, dispatch_uid="courses.email_key_sync")
        for model in (Module, Lesson):
            for signal in (post_save, post_delete):
                signal.connect(content_model_changed, sender=model, dispatch_uid=f"courses.content.{model.__name__}")
