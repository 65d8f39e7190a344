"""The verification benchmark's URLconf: the project's, plus a trivial plain-Django view (bench only)."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from certificates.codes import code_normalize
from certificates.selectors import VERIFICATION_FIELDS, _verification_sql
from config.urls import urlpatterns as project_urlpatterns


def trivial_verification(request: HttpRequest, code: str) -> JsonResponse:
    """The floor of a verification: the same single indexed SQL query, its row as JSON, nothing else."""
    with connection.cursor() as cursor:
        cursor.execute(_verification_sql(connection.vendor), [code_normalize(code)])
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"valid": False, "status": "not_found"}, status=404)
    return JsonResponse(dict(zip(("id", *VERIFICATION_FIELDS), row, strict=True)))


urlpatterns = [path("bench/trivial/<str:code>/", trivial_verification), *project_urlpatterns]
