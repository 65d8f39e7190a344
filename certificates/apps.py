"""App configuration for certificate issuing, verification and revocation."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from courses.extensions import HostNeeds


class CertificatesConfig(HostNeeds, AppConfig):
    name = "certificates"
    verbose_name = _("Certificates")
    default_auto_field = "django.db.models.BigAutoField"
    required_apps = ("courses",)

    def ready(self) -> None:
        from django.urls import reverse

        from courses.extensions import (
            ProgressColumn,
            register_cohort_action,
            register_completion_template,
            register_dashboard_template,
            register_enrollment_extra,
            register_participant_template,
            register_progress_column,
        )

        from . import checks, handlers  # noqa: F401 - registers the checks, connects to courses' signals
        from .selectors import enrollment_certificates, valid_certificate_number

        # What this app adds to courses' pages and reports (courses never imports it).
        register_enrollment_extra("certificate", enrollment_certificates)
        register_progress_column(
            ProgressColumn(
                key="certificate_number",
                label=_("Certificate"),
                value=lambda extras: (extras.get("certificate") or {}).get("number"),
                annotation=valid_certificate_number,
            )
        )
        register_dashboard_template("certificates/dashboard_certificate.html")
        register_completion_template("certificates/completion_certificate.html")
        register_participant_template("certificates/operator_participant.html")
        register_cohort_action(
            "certificates", _("Certificates"), lambda cohort: reverse("certificates:cohort", args=[cohort.pk])
        )
