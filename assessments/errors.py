"""Domain errors raised by assessments' services; API views and pages turn them into responses."""

from django.utils.translation import gettext_lazy as _

from courses.errors import DomainError, ModuleLocked, NotEnrolled

__all__ = [
    "AllowanceInvalid",
    "AlreadySubmitted",
    "AssessmentsError",
    "AttemptExpired",
    "InvalidAnswer",
    "ModuleLocked",
    "NoAttemptsLeft",
    "NotEnrolled",
]


class AssessmentsError(DomainError):
    """Base of assessments' domain errors (``code``, translatable ``message`` and ``http_status``)."""


class NoAttemptsLeft(AssessmentsError):
    code = "no_attempts_left"
    http_status = 409
    message = _("You have used all your attempts at this quiz.")


class AlreadySubmitted(AssessmentsError):
    code = "already_submitted"
    http_status = 409
    message = _("This attempt has already been submitted.")


class AttemptExpired(AssessmentsError):
    code = "expired"
    http_status = 409
    message = _("The time for this attempt is over; it was graded on the answers saved in time.")


class InvalidAnswer(AssessmentsError):
    code = "invalid_answer"
    message = _("The answers do not match the questions of this attempt.")


class AllowanceInvalid(AssessmentsError):
    """A grant of extra attempts that cannot be made, at its field (DRF's field-error shape)."""

    code = "invalid"

    def __init__(self, message=None, *, field: str = "non_field_errors"):
        self.field = field
        super().__init__(message)

    def as_body(self):
        return {self.field: [str(self.message)]}
