"""Files about people for operators to open in a spreadsheet: CSV and XLSX, written one way.

Every operator export button and the enrolment template go through here, so they all behave as
Indonesian offices need: the CSV is semicolon-separated with a UTF-8 BOM (Excel in the Indonesian
locale reads a comma file as one column, and without the BOM garbles names); the workbook has column
widths, a frozen header row, the NIP stored and formatted as text (Excel rounds an 18-digit number),
text never read as a formula, and real date cells in WITA (Excel cannot hold a time zone, so aware
datetimes are converted to Asia/Makassar and written without it).
"""

import csv
import datetime
import tempfile
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from .csv_export import BOM, csv_safe

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WITA = zoneinfo.ZoneInfo("Asia/Makassar")
CSV_DELIMITER = ";"
# Excel's number formats (they are not localised in the file: Excel shows them in the reader's locale).
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
DATE_FORMAT = "dd/mm/yyyy"
TEXT_FORMAT = "@"
# Widths in characters, by kind, unless a column says otherwise.
_WIDTHS = {"nip": 21, "datetime": 17, "date": 12, "number": 10}


@dataclass(frozen=True)
class Column:
    """One column of an export: its header, what it holds, and optionally its width (characters).

    ``kind``: ``text`` (default), ``nip`` (text, formatted as Text), ``number``, ``date`` or
    ``datetime``."""

    header: str
    kind: str = "text"
    width: int | None = None

    def xlsx_width(self) -> int:
        if self.width:
            return self.width
        return max(len(str(self.header)) + 2, _WIDTHS.get(self.kind, 14))


def wita(value: datetime.datetime) -> datetime.datetime:
    """The WITA wall-clock time of ``value``, without tzinfo (naive values are taken as in the site's zone)."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(WITA).replace(tzinfo=None)


def _csv_value(column: Column, value: Any) -> Any:
    if value is None:
        return ""
    if column.kind == "datetime" and isinstance(value, datetime.datetime):
        return wita(value).strftime("%Y-%m-%d %H:%M")
    if column.kind == "date" and isinstance(value, datetime.date):
        return value.isoformat()
    return csv_safe(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def people_csv_stream(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV line by line: BOM, header, rows; ``;``-separated, formula-like text defused."""
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER)
    yield BOM + writer.writerow([csv_safe(str(column.header)) for column in columns])
    for row in rows:
        yield writer.writerow([_csv_value(column, value) for column, value in zip(columns, row, strict=False)])


def people_csv_response(*, columns: Sequence[Column], rows: Iterable[Sequence[Any]], filename: str):
    """A streamed CSV download (see ``people_csv_stream``)."""
    response = StreamingHttpResponse(people_csv_stream(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def people_workbook(
    *, columns: Sequence[Column], rows: Iterable[Sequence[Any]], title: str, text_rows: int = 0
) -> tempfile.TemporaryFile:
    """The workbook in a temporary file (rows go to disk, not memory), positioned at its start.

    ``text_rows``: that many empty rows below the header formatted for typing (NIP columns as Text),
    for a template to fill in."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.xlsx_width()
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def text_cell(value: str, *, number_format: str | None = None, font=None):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # never a formula, whatever the text starts with
        if number_format:
            cell.number_format = number_format
        if font:
            cell.font = font
        return cell

    def cell(column: Column, value: Any):
        if value is None or value == "":
            if column.kind == "nip":
                empty = WriteOnlyCell(sheet, value=None)
                empty.number_format = TEXT_FORMAT
                return empty
            return None
        if column.kind == "datetime" and isinstance(value, datetime.datetime):
            written = WriteOnlyCell(sheet, value=wita(value))
            written.number_format = DATETIME_FORMAT
            return written
        if column.kind == "date" and isinstance(value, datetime.date):
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = DATE_FORMAT
            return written
        if isinstance(value, str) or column.kind == "nip":
            return text_cell(str(value), number_format=TEXT_FORMAT if column.kind == "nip" else None)
        return value

    sheet.append(
        [
            text_cell(str(column.header), font=bold, number_format=TEXT_FORMAT if column.kind == "nip" else None)
            for column in columns
        ]
    )
    for row in rows:
        sheet.append([cell(column, value) for column, value in zip(columns, row, strict=False)])
    for _ in range(text_rows):
        sheet.append([cell(column, None) for column in columns])
    out = tempfile.TemporaryFile()
    workbook.save(out)
    out.seek(0)
    return out


def people_xlsx_response(
    *, columns: Sequence[Column], rows: Iterable[Sequence[Any]], filename: str, title: str, text_rows: int = 0
) -> FileResponse:
    """The workbook (see ``people_workbook``) as a download."""
    out = people_workbook(columns=columns, rows=rows, title=title, text_rows=text_rows)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_MEDIA_TYPE)


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in str(title)).strip()
    return (cleaned or "Sheet")[:31]


def enrollment_template_columns() -> list[Column]:
    """The enrolment file's columns with headers in the current language; the import reads both
    languages' headers (API.md "Enrolment file" and "Operators' cohort work")."""
    from django.utils.translation import get_language

    if (get_language() or "id").startswith("id"):
        headers = ("NIP", "Nama Lengkap", "Surel", "Unit Kerja", "Jabatan")
    else:
        headers = ("nip", "full_name", "email", "unit", "position")
    kinds = ("nip", "text", "text", "text", "text")
    widths = (21, 32, 32, 36, 30)
    return [Column(header, kind, width) for header, kind, width in zip(headers, kinds, widths, strict=True)]


# Rows of the template formatted for typing (the NIP column as Text), enough for a large cohort.
TEMPLATE_TEXT_ROWS = 1000
TEMPLATE_FORMATS = ("xlsx", "csv")


def enrollment_template_response(file_format: str):
    """The empty enrolment file (headers only) as ``xlsx`` or ``csv``; ValueError for another format."""
    columns = enrollment_template_columns()
    if file_format == "xlsx":
        return people_xlsx_response(
            columns=columns,
            rows=[],
            filename="template-peserta.xlsx",
            title="Peserta",
            text_rows=TEMPLATE_TEXT_ROWS,
        )
    if file_format == "csv":
        return people_csv_response(columns=columns, rows=[], filename="template-peserta.csv")
    raise ValueError(file_format)
