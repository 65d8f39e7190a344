"""One way from a domain error to HTTP: every app's errors carry their status and code, one mixin renders them."""

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

# Every module that defines domain errors, so that every subclass is found.
import assessments.errors  # noqa: F401
import certificates.credentials  # noqa: F401
import certificates.errors  # noqa: F401
import certificates.sealing  # noqa: F401
import courses.enrollment_file
import courses.errors
from courses.api.errors import DomainErrorsMixin
from courses.errors import DomainError

EXPECTED = {  # code -> status, as the contract and the schema give them
    "not_enrolled": 403,
    "module_locked": 403,
    "invalid": 400,
    "conflict": 409,
    "too_many_attempts": 429,
    "invalid_file": 400,
    "no_attempts_left": 409,
    "already_submitted": 409,
    "expired": 409,
    "invalid_answer": 400,
    "not_completed": 409,
    "already_revoked": 409,
    "still_valid": 409,
    "reason_required": 400,
    "pdf_pending": 409,
    # The action plan.
    "course_completed": 409,
    # The enrolment template asked for in a format it is not made in.
    "invalid_format": 400,
    # Operators' cohort work: a participant removed from the cohort.
    "removed": 409,
    "no_action_plan": 404,
    # Official certificates: a seal that cannot seal; checking a PDF someone received; credentials.
    "seal_unavailable": 503,
    "file_required": 400,
    "not_pdf": 400,
    "too_large": 400,
    "encrypted": 400,
    "unreadable": 400,
    "malformed_credential": 400,
}


def every_error() -> list[type[DomainError]]:
    found, todo = [], list(DomainError.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted((cls for cls in found if cls.code != "error"), key=lambda cls: cls.code)


def build(cls: type[DomainError]) -> DomainError:
    if cls is courses.enrollment_file.EnrollmentFileInvalid:
        return cls([courses.enrollment_file.FileError(2, "nip", "x")])
    return cls()


def test_every_apps_errors_derive_from_one_base_with_a_status_and_a_code():
    errors = every_error()
    assert {cls.code: cls.http_status for cls in errors} == EXPECTED
    assert all(issubclass(cls, DomainError) for cls in errors)
    assert {cls.__module__.split(".")[0] for cls in errors} == {"courses", "assessments", "certificates"}


@pytest.mark.parametrize("cls", every_error(), ids=lambda cls: cls.__name__)
def test_the_mixin_renders_each_with_its_status_body_and_headers(cls):
    error = build(cls)
    error.headers = {"Retry-After": "60"}

    class Raising(DomainErrorsMixin, APIView):
        authentication_classes: list = []
        permission_classes: list = []

        def get(self, request):
            raise error

    response = Raising.as_view()(APIRequestFactory().get("/"))
    assert response.status_code == cls.http_status
    assert response.data == error.as_body()
    assert response["Retry-After"] == "60"
    if cls is courses.enrollment_file.EnrollmentFileInvalid:
        assert response.data == {"errors": [{"line": 2, "column": "nip", "message": "x"}]}
    elif issubclass(cls, courses.errors.CohortInvalid | courses.errors.ActionPlanInvalid) or (
        cls is assessments.errors.AllowanceInvalid
    ):  # DRF's field-error shape
        assert response.data == {"non_field_errors": [str(error.message)]}
    else:
        assert response.data == {"detail": str(error.message), "code": cls.code}
