"""Domain errors raised by courses' services; API views turn them into responses."""

from django.utils.translation import gettext_lazy as _


class CoursesError(Exception):
    """Base of courses' domain errors; ``code`` is machine-readable, ``message`` translatable."""

    code = "error"
    message = _("The request could not be completed.")

    def __init__(self, message=None):
        self.message = message or self.message
        super().__init__(str(self.message))


class NotEnrolled(CoursesError):
    code = "not_enrolled"
    message = _("You are not enrolled in this course.")


class ModuleLocked(CoursesError):
    code = "module_locked"
    message = _("This module is still locked: complete the previous module first.")


class CohortInvalid(CoursesError):
    code = "invalid"

    def __init__(self, message=None, *, field: str = "non_field_errors"):
        self.field = field
        super().__init__(message)


class EnrollmentConflict(CoursesError):
    code = "conflict"
    message = _("Another import changed the same participants at the same moment; please upload the file again.")


class SignInLocked(CoursesError):
    code = "too_many_attempts"
    message = _("Too many failed sign-in attempts.")
