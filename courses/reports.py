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
from .selectors import EnrollmentProgressView, ProgressRow, cohort_progress_stream, enrollments_progress_chunks

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
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    header, rows = _progress_table(cohort=cohort, enrollments=enrollments, keep=keep)
    workbook = Workbook(write_only=True)  # rows go to a temporary file, not memory
    sheet = workbook.create_sheet(title=_("Progress")[:31])

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
    return FileResponse(out, as_attachment=True, filename=_filename(cohort, "xlsx"), content_type=XLSX_MEDIA_TYPE)


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


# --- The API's report, streamed from ``cohort_progress_stream`` (bounded memory at any size) -------


def _header(module_count: int) -> list[str]:
    header = ["nip", "full_name", "unit", "progress_percent"]
    for index in range(1, module_count + 1):
        header += [f"module_{index}_state", f"module_{index}_best_score"]
    return header + ["completed_at", *(column.key for column in progress_columns())]


def _csv_cells(row: ProgressRow) -> list:
    cells = [row.nip, row.full_name, row.unit, row.progress_percent]
    for _module_id, state, best in row.modules:
        cells += [state, "" if best is None else best]
    return cells + [_local(row.completed_at), *("" if value is None else value for value in row.columns)]


def cohort_progress_csv_stream_response(*, cohort: Cohort) -> StreamingHttpResponse:
    """The whole cohort's report as CSV (the same cells as ``cohort_progress_csv_response``), streamed."""
    module_count, rows = cohort_progress_stream(cohort=cohort)
    response = StreamingHttpResponse(
        csv_stream(_header(module_count), (_csv_cells(row) for row in rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(cohort, "csv")}"'
    return response


def _json_item(row: ProgressRow, keys: list[str]) -> dict:
    """One JSON row (contract shape, as ``cohort_progress_payload``)."""
    return {
        "nip": row.nip,
        "full_name": row.full_name,
        "unit": row.unit,
        "progress_percent": row.progress_percent,
        "modules": [{"id": pk, "state": state, "best_score": best} for pk, state, best in row.modules],
        "completed_at": row.completed_at,
        **dict(zip(keys, row.columns, strict=True)),
    }


class StreamingJSONResponse(StreamingHttpResponse):
    """A streamed JSON body that can still be read whole (``content``, ``text``) by code that wants
    it at once, such as Django's test client's ``json()``; the body read whole is kept, so the
    stream can be read after it."""

    @property
    def content(self) -> bytes:
        body = b"".join(self.streaming_content)
        self.streaming_content = [body]
        return body

    @property
    def text(self) -> str:
        return self.content.decode(self.charset or "utf-8")


def cohort_progress_json_stream_response(*, cohort: Cohort) -> StreamingHttpResponse:
    """The whole cohort's report as the contract's JSON array, streamed a batch of rows at a time and
    encoded as DRF's JSON renderer encodes it (dates in ISO 8601, ``Z`` for UTC, UTF-8)."""
    from rest_framework.utils.encoders import JSONEncoder

    _, rows = cohort_progress_stream(cohort=cohort)
    keys = [column.key for column in progress_columns()]
    encoder = JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def chunks() -> Iterator[bytes]:
        yield b"["
        batch: list[str] = []
        first = True
        for row in rows:
            batch.append(encoder.encode(_json_item(row, keys)))
            if len(batch) == 500:
                yield (("" if first else ",") + ",".join(batch)).encode()
                first, batch = False, []
        if batch:
            yield (("" if first else ",") + ",".join(batch)).encode()
        yield b"]"

    return StreamingJSONResponse(chunks(), content_type="application/json")
