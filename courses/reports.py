"""Operator reports: the cohort progress as CSV or XLSX, shared by the API and the web page."""

import itertools
import tempfile
from collections.abc import Callable, Iterator

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .csv_export import csv_stream
from .extensions import progress_columns
from .models import Cohort, Enrollment
from .selectors import (
    ACTION_PLAN_COLUMNS,
    EnrollmentProgressView,
    action_plan_row,
    cohort_action_plans,
    enrollments_progress_chunks,
)

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def cohort_progress_rows(progress: list[EnrollmentProgressView]):
    for item in progress:
        participant = item.enrollment.participant
        cells = [participant.nip, participant.full_name, participant.unit, item.progress_percent]
        for module in item.modules:
            cells += [module.state, "" if module.best_score is None else module.best_score]
        cells += [_local(item.completed_at), *("" if value is None else value for value in item.column_values)]
        yield cells


def _progress_table(*, cohort: Cohort, enrollments: QuerySet[Enrollment], keep=None) -> tuple[list[str], Iterator]:
    """The report's header and its rows, built a chunk of enrolments at a time while they are read."""
    chunks = enrollments_progress_chunks(enrollments)
    first = next(chunks, [])  # the header needs the number of modules
    count = len(first[0].modules) if first else cohort.course.modules.count()
    header = ["nip", "full_name", "unit", "progress_percent"]
    for index in range(1, count + 1):
        header += [f"module_{index}_state", f"module_{index}_best_score"]
    header += ["completed_at", *(column.key for column in progress_columns())]

    def rows():
        for chunk in itertools.chain([first], chunks):
            yield from cohort_progress_rows([item for item in chunk if keep is None or keep(item)])

    return header, rows()


def _filename(cohort: Cohort, extension: str) -> str:
    return f"progress-{slugify(cohort.name) or cohort.pk}.{extension}"


def cohort_progress_csv_response(
    *, cohort: Cohort, enrollments: QuerySet[Enrollment], keep: Callable[[EnrollmentProgressView], bool] | None = None
) -> StreamingHttpResponse:
    """The progress of ``enrollments`` (those ``keep`` accepts) as a CSV download, streamed a chunk
    of enrolments at a time so a large cohort is never built in memory whole."""
    header, rows = _progress_table(cohort=cohort, enrollments=enrollments, keep=keep)
    response = StreamingHttpResponse(csv_stream(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(cohort, "csv")}"'
    return response


def cohort_progress_xlsx_response(
    *, cohort: Cohort, enrollments: QuerySet[Enrollment], keep: Callable[[EnrollmentProgressView], bool] | None = None
) -> FileResponse:
    """The same report as an Excel workbook, for operators who open it in Excel: there an 18-digit
    NIP read from CSV becomes a number and loses its last digits. Every text cell is stored as text
    (the NIP column formatted as Text), so nothing is ever a number or a formula it was not."""
    header, rows = _progress_table(cohort=cohort, enrollments=enrollments, keep=keep)
    return _xlsx_response(header=header, rows=rows, sheet_title=_("Progress"), filename=_filename(cohort, "xlsx"))


def _xlsx_response(*, header: list[str], rows, sheet_title: str, filename: str) -> FileResponse:
    """A write-only workbook of ``header`` and ``rows`` (first column, the NIP, formatted as Text)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)  # rows go to a temporary file, not memory
    sheet = workbook.create_sheet(title=sheet_title[:31])

    def cell(value, *, text_format: bool = False):
        if value == "":
            return None
        if not isinstance(value, str):
            return value
        written = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        written.data_type = "s"  # never a formula, whatever the text starts with
        if text_format:
            written.number_format = "@"
        return written

    sheet.append([cell(name) for name in header])
    for row in rows:
        sheet.append([cell(row[0], text_format=True), *(cell(value) for value in row[1:])])
    out = tempfile.TemporaryFile()
    workbook.save(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_MEDIA_TYPE)


def _action_plan_cells(plans) -> Iterator[list]:
    for plan in plans:
        row = action_plan_row(plan)
        row["due_on"] = row["due_on"].isoformat()
        row["submitted_at"] = _local(row["submitted_at"])
        yield [row[name] for name in ACTION_PLAN_COLUMNS]


def cohort_action_plans_csv_response(*, cohort: Cohort) -> StreamingHttpResponse:
    """The cohort's submitted action plans as a CSV download (columns as the JSON rows)."""
    rows = _action_plan_cells(cohort_action_plans(cohort=cohort).iterator(chunk_size=500))
    response = StreamingHttpResponse(
        csv_stream(list(ACTION_PLAN_COLUMNS), rows), content_type="text/csv; charset=utf-8"
    )
    filename = f"action-plans-{slugify(cohort.name) or cohort.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def cohort_action_plans_xlsx_response(*, cohort: Cohort) -> FileResponse:
    """The same as an Excel workbook, every text cell stored as text (NIP included)."""
    return _xlsx_response(
        header=list(ACTION_PLAN_COLUMNS),
        rows=_action_plan_cells(cohort_action_plans(cohort=cohort).iterator(chunk_size=500)),
        sheet_title=_("Action plans"),
        filename=f"action-plans-{slugify(cohort.name) or cohort.pk}.xlsx",
    )


def cohort_progress_payload(progress: list[EnrollmentProgressView]) -> list[dict]:
    """The JSON rows of the cohort progress report (contract shape): the rows' only builder, with a
    key per registered column (``certificate_number`` from certificates); CohortProgressSerializer
    documents it."""
    columns = progress_columns()
    return [
        {
            "nip": item.enrollment.participant.nip,
            "full_name": item.enrollment.participant.full_name,
            "unit": item.enrollment.participant.unit,
            "progress_percent": item.progress_percent,
            "modules": [{"id": m.module.pk, "state": m.state, "best_score": m.best_score} for m in item.modules],
            "completed_at": item.completed_at,
            **{column.key: column.value(item.extras) for column in columns},
        }
        for item in progress
    ]
