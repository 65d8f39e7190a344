"""Operator reports: the cohort progress CSV, shared by the API and the web page."""

import itertools
from collections.abc import Callable

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from .csv_export import csv_stream
from .models import Cohort, Enrollment
from .selectors import EnrollmentProgressView, enrollments_progress_chunks


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def cohort_progress_rows(progress: list[EnrollmentProgressView]):
    for item in progress:
        participant = item.enrollment.participant
        cells = [participant.nip, participant.full_name, participant.unit, item.progress_percent]
        for module in item.modules:
            cells += [module.state, "" if module.best_score is None else module.best_score]
        cells += [_local(item.completed_at), item.certificate_number or ""]
        yield cells


def cohort_progress_csv_response(
    *, cohort: Cohort, enrollments: QuerySet[Enrollment], keep: Callable[[EnrollmentProgressView], bool] | None = None
) -> StreamingHttpResponse:
    """The progress of ``enrollments`` (those ``keep`` accepts) as a CSV download, streamed a chunk
    of enrolments at a time so a large cohort is never built in memory whole."""
    chunks = enrollments_progress_chunks(enrollments)
    first = next(chunks, [])  # the header needs the number of modules
    count = len(first[0].modules) if first else cohort.course.modules.count()
    header = ["nip", "full_name", "unit", "progress_percent"]
    for index in range(1, count + 1):
        header += [f"module_{index}_state", f"module_{index}_best_score"]
    header += ["completed_at", "certificate_number"]

    def rows():
        for chunk in itertools.chain([first], chunks):
            yield from cohort_progress_rows([item for item in chunk if keep is None or keep(item)])

    response = StreamingHttpResponse(csv_stream(header, rows()), content_type="text/csv; charset=utf-8")
    filename = f"progress-{slugify(cohort.name) or cohort.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def cohort_progress_payload(progress: list[EnrollmentProgressView]) -> list[dict]:
    """The JSON rows of the cohort progress report (contract shape)."""
    return [
        {
            "nip": item.enrollment.participant.nip,
            "full_name": item.enrollment.participant.full_name,
            "unit": item.enrollment.participant.unit,
            "progress_percent": item.progress_percent,
            "modules": [{"id": m.module.pk, "state": m.state, "best_score": m.best_score} for m in item.modules],
            "completed_at": item.completed_at,
            "certificate_number": item.certificate_number,
        }
        for item in progress
    ]
