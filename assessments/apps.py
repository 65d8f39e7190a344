"""App configuration for quizzes, questions, attempts and grading."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from courses.extensions import HostNeeds


class AssessmentsConfig(HostNeeds, AppConfig):
    name = "assessments"
    verbose_name = _("Assessments")
    default_auto_field = "django.db.models.BigAutoField"
    required_apps = ("courses",)

    def ready(self) -> None:
        from courses.extensions import (
            register_enrollment_module_extra,
            register_module_extra,
            register_participant_template,
        )

        from . import handlers  # noqa: F401 - connects to courses' signals
        from .selectors import attempts_left_by_enrollment, quiz_summaries

        register_module_extra("quiz", quiz_summaries)
        register_enrollment_module_extra("attempts_left", attempts_left_by_enrollment)
        register_participant_template("assessments/operator_participant.html")
