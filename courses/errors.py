"""Domain errors: the base every app's errors derive from (with their HTTP status), and courses' own."""

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of every app's domain errors, and of how they reach HTTP.

    ``code`` is machine-readable, ``message`` translatable, ``http_status`` the status the API
    (``courses.api.errors.DomainErrorsMixin``) and the pages answer with; ``headers`` go with the
    response (e.g. ``Retry-After``). The API body is ``as_body()``: ``{"detail", "code"}`` unless an
    error has a shape of its own in the contract (an enrolment file's list of errors, a form field's).
    """

    code = "error"
    http_status = 400
    message = _("The request could not be completed.")

    def __init__(self, message=None, *, headers: dict[str, str] | None = None):
        self.message = message or self.message
        self.headers = headers or {}
        super().__init__(str(self.message))

    def as_body(self) -> dict[str, Any]:
        return {"detail": str(self.message), "code": self.code}


class CoursesError(DomainError):
    """Base of courses' domain errors."""


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

    def as_body(self) -> dict[str, Any]:
        # DRF's field-error shape, as the form fields' other errors.
        return {self.field: [str(self.message)]}


class EnrollmentConflict(CoursesError):
    code = "conflict"
    http_status = 409
    message = _("Another import changed the same participants at the same moment; please upload the file again.")


class SignInLocked(CoursesError):
    code = "too_many_attempts"
    http_status = 429
    message = _("Too many failed sign-in attempts.")


class ActionPlanInvalid(CoursesError):
    """The action plan's fields, each with its problems (DRF's field-error shape)."""

    code = "invalid"
    message = _("The action plan is not valid.")

    def __init__(self, errors: dict[str, list[Any]] | None = None):
        self.errors = errors or {"non_field_errors": [self.message]}
        super().__init__()

    def as_body(self) -> dict[str, Any]:
        return {field: [str(message) for message in messages] for field, messages in self.errors.items()}


class ActionPlanClosed(CoursesError):
    code = "course_completed"
    http_status = 409
    message = _("The training is already completed: the action plan can no longer be changed.")


class ActionPlanNotOffered(CoursesError):
    code = "no_action_plan"
    http_status = 404
    message = _("This training has no action plan.")


class FileFormatUnknown(CoursesError):
    """A file asked for in a format the endpoint does not make (e.g. ``?format=pdf`` for a template)."""

    code = "invalid_format"
    http_status = 400
    message = _("This file is available as xlsx or csv only: choose ?format=xlsx or ?format=csv.")


class ParticipantInvalid(CohortInvalid):
    """A correction of a participant's details that cannot be saved, at its field."""


class EnrollmentRemoved(CoursesError):
    code = "removed"
    http_status = 409
    message = _("This participant has been removed from the cohort.")
