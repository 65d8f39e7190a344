"""App configuration for certificate issuing, verification and revocation."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Certificates")
    default_auto_field = "django.db.models.BigAutoField"
    required_apps = ("courses",)

    def ready(self) -> None:
        from courses.extensions import register_enrollment_extra

        from . import checks, handlers  # noqa: F401 - registers the checks, connects to courses' signals
        from .selectors import enrollment_certificates

        register_enrollment_extra("certificate", enrollment_certificates)
