"""Reading and validating an enrolment file (CSV or XLSX) as API.md's enrolment table defines it."""

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .conf import courses_setting
from .errors import CoursesError
from .validators import nip_validate

COLUMNS = ("nip", "full_name", "email", "unit", "position")
REQUIRED = ("nip", "full_name", "email")
MAX_LENGTH = {"full_name": 150, "email": 254, "unit": 200, "position": 200}
# Text a spreadsheet would run as a formula when the file is opened again (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")


def _save_as_hint() -> str:
    return _("In Excel choose File → Save As → “CSV UTF-8 (Comma delimited)” or “Excel Workbook (.xlsx)”.")


@dataclass(frozen=True)
class FileError:
    """One problem: ``line`` is the spreadsheet row a person sees (header = 1), None for the whole file."""

    line: int | None
    column: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


class EnrolmentFileInvalid(CoursesError):
    code = "invalid_file"

    def __init__(self, errors: list[FileError]):
        self.errors = sorted(
            errors, key=lambda e: (e.line or 0, COLUMNS.index(e.column) if e.column in COLUMNS else -1)
        )
        super().__init__(self.errors[0].message if self.errors else None)


@dataclass(frozen=True)
class EnrolmentRow:
    line: int
    nip: str
    full_name: str
    email: str
    unit: str
    position: str


def _file_error(message: str, line: int | None = None, column: str | None = None) -> EnrolmentFileInvalid:
    return EnrolmentFileInvalid([FileError(line, column, message)])


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode Text" is UTF-16 with a byte order mark: read it as such.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _file_error(
                _("The file claims to be UTF-16 but is damaged. %(hint)s") % {"hint": _save_as_hint()}
            ) from exc
    if b"\x00" in data:
        raise _file_error(
            _("This is not a CSV or XLSX file (it contains binary data). %(hint)s") % {"hint": _save_as_hint()}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(
            _(
                "The file is not in UTF-8 (it looks like a Windows/ANSI encoding), so names could come out garbled. "
                "%(hint)s"
            )
            % {"hint": _save_as_hint()}
        ) from exc
    if len(_CONTROL.findall(text[:4096])) > 8:
        raise _file_error(
            _("This is not a CSV or XLSX file (it contains binary data). %(hint)s") % {"hint": _save_as_hint()}
        )
    return text


def _csv_rows(text: str) -> list[list[Any]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        # read_only streams the sheet; data_only=False keeps formulas visible so they can be refused.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise _file_error(
            _("The XLSX file is damaged or is not an Excel workbook. %(hint)s") % {"hint": _save_as_hint()}
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        limit = courses_setting("IMPORT_MAX_ROWS") + 2
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > limit:
                break
        return rows
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _nip_cell(value: Any) -> str:
    if isinstance(value, float):
        raise ValidationError(
            _("The NIP was stored as a number and has lost digits. Format the NIP column as Text and type it again.")
        )
    return nip_validate(_cell_text(value))


def _text_cell(column: str, value: Any, errors: list[FileError], line: int) -> str:
    text = _WHITESPACE.sub(" ", _cell_text(value)) if column == "full_name" else _cell_text(value)
    if column in REQUIRED and not text:
        errors.append(FileError(line, column, _("This column is required and is empty.")))
    elif _CONTROL.search(text):
        errors.append(FileError(line, column, _("Contains invisible control characters; type the value again.")))
    elif text.startswith(FORMULA_START):
        errors.append(
            FileError(
                line,
                column,
                _("Starts with “%(char)s”, which a spreadsheet runs as a formula; write plain text.")
                % {"char": text[0]},
            )
        )
    elif len(text) > MAX_LENGTH[column]:
        errors.append(
            FileError(
                line,
                column,
                _("Too long: %(count)d characters; at most %(max)d are allowed.")
                % {"count": len(text), "max": MAX_LENGTH[column]},
            )
        )
    return text


def _validation_message(error: ValidationError) -> str:
    return " ".join(error.messages)


def read_enrolment_file(upload: IO[bytes], *, name: str = "", size: int | None = None) -> list[EnrolmentRow]:
    """Parse and validate an uploaded enrolment file; return its rows or raise EnrolmentFileInvalid.

    Reports every problem at once. Pure: reads the file, writes nothing.
    """
    max_bytes = courses_setting("IMPORT_MAX_BYTES")
    if size is not None and size > max_bytes:
        raise _file_error(_file_too_big(size, max_bytes))
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _file_error(_file_too_big(len(data), max_bytes))
    if not data.strip():
        raise _file_error(_("The file is empty. Put the header row (nip, full_name, email, unit, position) on line 1."))

    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error(_("Old Excel files (.xls) are not supported. %(hint)s") % {"hint": _save_as_hint()})
    else:
        rows = _csv_rows(_decode(data))

    if not rows or not any(_cell_text(v) for v in rows[0]):
        raise _file_error(_("Line 1 must be the header row (nip, full_name, email, unit, position)."), line=1)
    header = [_cell_text(v).lower().lstrip("\ufeff") for v in rows[0]]
    errors: list[FileError] = []
    seen: dict[str, int] = {}
    for index, name_ in enumerate(header):
        if name_ in COLUMNS:
            if name_ in seen:
                errors.append(
                    FileError(1, name_, _("The column “%(name)s” appears twice in the header.") % {"name": name_})
                )
            seen.setdefault(name_, index)
    for column in REQUIRED:
        if column not in seen:
            errors.append(
                FileError(
                    1,
                    column,
                    _("The required column “%(name)s” is missing from the header. Found: %(found)s.")
                    % {"name": column, "found": ", ".join(h for h in header if h) or "—"},
                )
            )
    if errors:
        raise EnrolmentFileInvalid(errors)

    data_rows = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(_cell_text(v) for v in row)]
    max_rows = courses_setting("IMPORT_MAX_ROWS")
    if len(data_rows) > max_rows:
        raise _file_error(
            ngettext(
                "The file has more than %(max)d row; split it into smaller files.",
                "The file has more than %(max)d rows; split it into smaller files.",
                max_rows,
            )
            % {"max": max_rows}
        )
    if not data_rows:
        raise _file_error(_("The file has a header but no participants."), line=2)

    parsed: list[EnrolmentRow] = []
    for line, row in data_rows:
        cells = {column: (row[index] if index < len(row) else None) for column, index in seen.items()}
        before = len(errors)
        try:
            nip = _nip_cell(cells["nip"])
        except ValidationError as exc:
            errors.append(FileError(line, "nip", _validation_message(exc)))
            nip = ""
        full_name = _text_cell("full_name", cells["full_name"], errors, line)
        email = _text_cell("email", cells["email"], errors, line)
        if email and not any(e.line == line and e.column == "email" for e in errors[before:]):
            try:
                EmailValidator()(email)
            except ValidationError:
                errors.append(
                    FileError(line, "email", _("“%(value)s” is not a valid email address.") % {"value": email})
                )
        unit = _text_cell("unit", cells.get("unit"), errors, line)
        position = _text_cell("position", cells.get("position"), errors, line)
        parsed.append(EnrolmentRow(line, nip, full_name, email.lower(), unit, position))

    errors += _duplicates(parsed, "nip", _("This NIP appears more than once in the file (lines %(lines)s)."))
    errors += _duplicates(
        parsed, "email", _("This email is used for more than one NIP in the file (lines %(lines)s)."), distinct="nip"
    )
    if errors:
        raise EnrolmentFileInvalid(errors)
    return parsed


def _duplicates(rows: list[EnrolmentRow], column: str, message: str, distinct: str | None = None) -> list[FileError]:
    groups: dict[str, list[EnrolmentRow]] = {}
    for row in rows:
        value = getattr(row, column)
        if value:
            groups.setdefault(value, []).append(row)
    errors = []
    for group in groups.values():
        if len(group) < 2 or (distinct and len({getattr(r, distinct) for r in group}) < 2):
            continue
        lines = ", ".join(str(r.line) for r in group)
        errors += [FileError(r.line, column, message % {"lines": lines}) for r in group]
    return errors


def _file_too_big(size: int, max_bytes: int) -> str:
    return _("The file is %(size)s; the limit is %(max)s. Split it into smaller files.") % {
        "size": filesizeformat(size),
        "max": filesizeformat(max_bytes),
    }
