"""Operator reports: the cohort progress CSV, shared by the API and the web page."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from .csv_export import csv_stream
from .models import Cohort
from .selectors import EnrollmentProgressView


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


def cohort_progress_csv_response(*, cohort: Cohort, progress: list[EnrollmentProgressView]) -> StreamingHttpResponse:
    count = len(progress[0].modules) if progress else cohort.course.modules.count()
    header = ["nip", "full_name", "unit", "progress_percent"]
    for index in range(1, count + 1):
        header += [f"module_{index}_state", f"module_{index}_best_score"]
    header += ["completed_at", "certificate_number"]
    response = StreamingHttpResponse(
        csv_stream(header, cohort_progress_rows(progress)), content_type="text/csv; charset=utf-8"
    )
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
