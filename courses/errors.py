"""Domain errors raised by courses' services; API views turn them into responses."""

from django.utils.translation import gettext_lazy as _


class CoursesError(Exception):
    """Base of courses' domain errors; ``code`` is machine-readable, ``message`` translatable, and
    ``http_status`` the status the API answers it with (``courses.api.errors.DomainErrorsMixin``)."""

    code = "error"
    http_status = 400
    message = _("The request could not be completed.")

    def __init__(self, message=None):
        self.message = message or self.message
        super().__init__(str(self.message))


class NotEnrolled(CoursesError):
    code = "not_enrolled"
    http_status = 403
    message = _("You are not enrolled in this course.")


class ModuleLocked(CoursesError):
    code = "module_locked"
    http_status = 403
    message = _("This module is still locked: complete the previous module first.")


class CohortInvalid(CoursesError):
    code = "invalid"

    def __init__(self, message=None, *, field: str = "non_field_errors"):
        self.field = field
        super().__init__(message)


class EnrollmentConflict(CoursesError):
    code = "conflict"
    http_status = 409
    message = _("Another import changed the same participants at the same moment; please upload the file again.")


class SignInLocked(CoursesError):
    code = "too_many_attempts"
    http_status = 429
    message = _("Too many failed sign-in attempts.")
