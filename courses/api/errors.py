"""One mechanism turns errors into HTTP for every app's API views: ``{"detail", "code"}``, or DRF's field errors."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from courses.errors import DomainError

from .schema import AppAutoSchema


def error_code(exc: Exception) -> str:
    """The machine-readable code of an exception DRF turned into a ``{"detail"}`` response."""
    if isinstance(exc, APIException):
        codes = exc.get_codes()
        return codes if isinstance(codes, str) else exc.default_code
    if isinstance(exc, Http404):
        return "not_found"
    if isinstance(exc, PermissionDenied):
        return "permission_denied"
    return "error"


class DomainErrorsMixin:
    """For the apps' API views: every error body carries a ``code`` beside its ``detail``.

    A domain error (``courses.errors.DomainError``, the base of every app's errors) answers its
    ``as_body()`` (``{"detail": <translated message>, "code": <its code>}``, or the contract's own
    shape for an enrolment file or a form field) with its ``http_status`` and ``headers``: views
    raise, they never build an error body themselves. DRF's own
    exceptions (401, 403, 404, 405, 406, 415, 429, parse errors) go through the host's exception
    handler as usual and get the exception's code added; validation errors keep DRF's
    ``{"field": [...]}`` shape. Scoped to the views that use it: a host's ``EXCEPTION_HANDLER`` and
    its own views are untouched. The views' schema is ``AppAutoSchema``, which declares exactly
    these errors; it is set here so that a host's ``DEFAULT_SCHEMA_CLASS`` does not drop them.
    """

    schema = AppAutoSchema()

    def handle_exception(self, exc):
        if isinstance(exc, DomainError):
            return Response(exc.as_body(), status=exc.http_status, headers=exc.headers or None)
        response = super().handle_exception(exc)
        data = getattr(response, "data", None)
        if isinstance(data, dict) and "detail" in data and "code" not in data and len(data) == 1:
            data["code"] = error_code(exc)
        return response
