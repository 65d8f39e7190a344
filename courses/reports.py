"""Operator reports: the cohort progress as CSV or XLSX, shared by the API and the web page."""

import itertools
from collections.abc import Callable, Iterator

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .csv_export import csv_stream
from .extensions import progress_columns
from .models import Cohort, Enrollment
from .people_export import Column, people_csv_response, people_xlsx_response
from .selectors import (
    ACTION_PLAN_COLUMNS,
    EnrollmentProgressView,
    ProgressRow,
    action_plan_row,
    cohort_action_plans,
    cohort_progress_stream,
    enrollments_progress_chunks,
)

# The progress of a module as an operator's export shows it (the API keeps the state's key).
MODULE_STATES = {"locked": _lazy("Locked"), "available": _lazy("Available"), "completed": _lazy("Completed")}


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _progress_values(item: EnrollmentProgressView, *, localized: bool) -> list:
    """One report row: dates as datetimes, missing values as None, states as keys or in words."""
    participant = item.enrollment.participant
    cells = [participant.nip, participant.full_name, participant.unit, item.progress_percent]
    for module in item.modules:
        cells += [str(MODULE_STATES.get(module.state, module.state)) if localized else module.state, module.best_score]
    cells += [item.completed_at, *item.column_values]
    return cells


def _progress_columns(count: int, *, localized: bool) -> list[Column]:
    """The report's columns: the contract's keys (the API), or headers in the page's language."""
    extras = progress_columns()
    if not localized:
        columns = [Column("nip", "nip"), Column("full_name", width=28), Column("unit", width=28)]
        columns.append(Column("progress_percent", "number"))
        for index in range(1, count + 1):
            columns += [Column(f"module_{index}_state"), Column(f"module_{index}_best_score", "number")]
        return [*columns, Column("completed_at", "datetime"), *(Column(column.key) for column in extras)]
    columns = [Column(_("NIP"), "nip"), Column(_("Name"), width=28), Column(_("Unit (OPD)"), width=28)]
    columns.append(Column(_("Progress (%)"), "number"))
    for index in range(1, count + 1):
        columns += [
            Column(_("Module %(number)d: status") % {"number": index}),
            Column(_("Module %(number)d: best score") % {"number": index}, "number"),
        ]
    return [*columns, Column(_("Completed on"), "datetime"), *(Column(str(column.label)) for column in extras)]


def _progress_table(
    *, cohort: Cohort, enrollments: QuerySet[Enrollment], keep=None, localized: bool = False
) -> tuple[list[Column], Iterator]:
    """The report's columns and its rows, built a chunk of enrolments at a time while they are read."""
    chunks = enrollments_progress_chunks(enrollments)
    first = next(chunks, [])  # the header needs the number of modules
    count = len(first[0].modules) if first else cohort.course.modules.count()
    columns = _progress_columns(count, localized=localized)

    def rows():
        for chunk in itertools.chain([first], chunks):
            kept = [item for item in chunk if keep is None or keep(item)]
            yield from (_progress_values(item, localized=localized) for item in kept)

    return columns, rows()


def _filename(cohort: Cohort, extension: str) -> str:
    return f"progress-{slugify(cohort.name) or cohort.pk}.{extension}"


def cohort_progress_xlsx_response(
    *,
    cohort: Cohort,
    enrollments: QuerySet[Enrollment],
    keep: Callable[[EnrollmentProgressView], bool] | None = None,
    localized: bool = False,
) -> FileResponse:
    """The same report as an Excel workbook (people_export: NIP and text as text, dates as WITA date
    cells, a frozen header row); headers and states in the request's language when ``localized``."""
    columns, rows = _progress_table(cohort=cohort, enrollments=enrollments, keep=keep, localized=localized)
    return people_xlsx_response(columns=columns, rows=rows, filename=_filename(cohort, "xlsx"), title=_("Progress"))


def cohort_progress_people_csv_response(
    *, cohort: Cohort, enrollments: QuerySet[Enrollment], keep: Callable[[EnrollmentProgressView], bool] | None = None
) -> StreamingHttpResponse:
    """The operator page's CSV: headers and states in the page's language, ``;``-separated with a BOM."""
    columns, rows = _progress_table(cohort=cohort, enrollments=enrollments, keep=keep, localized=True)
    return people_csv_response(columns=columns, rows=rows, filename=_filename(cohort, "csv"))


def cohort_progress_page_export(
    *,
    cohort: Cohort,
    enrollments: QuerySet[Enrollment],
    keep: Callable[[EnrollmentProgressView], bool] | None,
    file_format: str,
):
    """The operator page's export (``csv`` or ``xlsx``) in the page's language, or None for another format."""
    if file_format == "csv":
        return cohort_progress_people_csv_response(cohort=cohort, enrollments=enrollments, keep=keep)
    if file_format == "xlsx":
        return cohort_progress_xlsx_response(cohort=cohort, enrollments=enrollments, keep=keep, localized=True)
    return None


# The action plans' columns in the XLSX: the NIP as Text, the deadline a date, the submission a WITA time.
_ACTION_PLAN_KINDS = {"nip": "nip", "due_on": "date", "submitted_at": "datetime"}


def _action_plan_values(plans) -> Iterator[list]:
    for plan in plans:
        row = action_plan_row(plan)
        yield [row[name] for name in ACTION_PLAN_COLUMNS]


def _action_plan_cells(plans) -> Iterator[list]:
    for row in _action_plan_values(plans):
        row[ACTION_PLAN_COLUMNS.index("due_on")] = row[ACTION_PLAN_COLUMNS.index("due_on")].isoformat()
        index = ACTION_PLAN_COLUMNS.index("submitted_at")
        row[index] = _local(row[index])
        yield row


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
    """The same as an Excel workbook (people_export: NIP and text as text, dates as WITA date cells)."""
    return people_xlsx_response(
        columns=[Column(name, kind=_ACTION_PLAN_KINDS.get(name, "text")) for name in ACTION_PLAN_COLUMNS],
        rows=_action_plan_values(cohort_action_plans(cohort=cohort).iterator(chunk_size=500)),
        title=_("Action plans"),
        filename=f"action-plans-{slugify(cohort.name) or cohort.pk}.xlsx",
    )


def _header(module_count: int) -> list[str]:
    header = ["nip", "full_name", "unit", "progress_percent"]
    for index in range(1, module_count + 1):
        header += [f"module_{index}_state", f"module_{index}_best_score"]
    return header + ["completed_at", *(column.key for column in progress_columns())]


def _csv_cells(row: ProgressRow) -> list:
    cells = [row.nip, row.full_name, row.unit, row.progress_percent]
    for _module_id, state, best, _attempts_left in row.modules:
        cells += [state, "" if best is None else best]
    return cells + [_local(row.completed_at), *("" if value is None else value for value in row.columns)]


def cohort_progress_csv_stream_response(*, cohort: Cohort) -> StreamingHttpResponse:
    """The whole cohort's report as CSV (API.md: keys as headers, comma-separated), streamed."""
    module_count, rows = cohort_progress_stream(cohort=cohort)
    response = StreamingHttpResponse(
        csv_stream(_header(module_count), (_csv_cells(row) for row in rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(cohort, "csv")}"'
    return response


def _json_item(row: ProgressRow, keys: list[str]) -> dict:
    """One JSON row (contract shape; CohortProgressSerializer documents it): the rows' only builder."""
    return {
        "nip": row.nip,
        "full_name": row.full_name,
        "unit": row.unit,
        "progress_percent": row.progress_percent,
        "modules": [
            {"id": pk, "state": state, "best_score": best, "attempts_left": left}
            for pk, state, best, left in row.modules
        ],
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
