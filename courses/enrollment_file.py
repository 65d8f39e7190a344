"""Reading and validating an enrolment file (CSV or XLSX) as API.md's enrolment table defines it."""

import csv
import datetime
import functools
import io
import itertools
import operator
import re
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .conf import courses_setting
from .errors import CoursesError
from .validators import NIP_LENGTH, email_canonical, nip_validate, visible_text_validate
from .xlsx_reader import DateCell, Limits, TooLong, XlsxDamaged, XlsxLimit, read_first_sheet, too_many_columns

COLUMNS = ("nip", "full_name", "email", "unit", "position")
REQUIRED = ("nip", "full_name", "email")
MAX_LENGTH = {"full_name": 150, "email": 254, "unit": 200, "position": 200}
# Text a spreadsheet would run as a formula when the file is opened again (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EMPTY_MARKS = ("-", "–", "—")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")
# Other names offices give the columns (API.md "Operators' cohort work"), compared after header_key().
HEADER_ALIASES = {
    "nama": "full_name",
    "nama lengkap": "full_name",
    "e-mail": "email",
    "surel": "email",
    "pos-el": "email",
    "unit kerja": "unit",
    "opd": "unit",
    "perangkat daerah": "unit",
    "jabatan": "position",
}


def header_key(value: str) -> str:
    """A header cell as compared: without BOM, lower case, underscores as spaces, runs of spaces as one."""
    return _WHITESPACE.sub(" ", value.lstrip("\ufeff").replace("_", " ")).strip().lower()


def header_column(value: str) -> str | None:
    """The column (one of COLUMNS) a header cell names, or None when the import does not know it."""
    key = header_key(value)
    canonical = key.replace(" ", "_")
    if canonical in COLUMNS:
        return canonical
    return HEADER_ALIASES.get(key)


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


class EnrollmentFileInvalid(CoursesError):
    code = "invalid_file"

    def as_body(self) -> dict[str, Any]:
        # The contract's shape: every problem with its line and column.
        return {"errors": [error.as_dict() for error in self.errors]}

    def __init__(self, errors: list[FileError]):
        self.errors = sorted(
            errors, key=lambda e: (e.line or 0, COLUMNS.index(e.column) if e.column in COLUMNS else -1)
        )
        super().__init__(self.errors[0].message if self.errors else None)


class EnrollmentRow(NamedTuple):
    """One valid row of the file (a named tuple: a file has thousands, and tuples are the cheapest to make)."""

    line: int
    nip: str
    full_name: str
    email: str
    unit: str
    position: str
    # Not shown when the workbook is opened (a hidden row, or a hidden sheet): imported, and reported.
    hidden: bool = False


# A row of the file before validation: its line, its cells, hidden or not.
RawRow = tuple[int, list[Any], bool]


def _file_error(message: str, line: int | None = None, column: str | None = None) -> EnrollmentFileInvalid:
    return EnrollmentFileInvalid([FileError(line, column, message)])


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the file looks like UTF-16 text saved without a byte order mark.

    Mostly-ASCII text in UTF-16 has a zero in every other byte; binary files do not."""
    sample = data[:2000]
    if len(sample) < 4 or len(sample) % 2:
        sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode Text" is UTF-16 with a byte order mark: read it as such.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _file_error(
                _("The file claims to be UTF-16 but is damaged. %(hint)s") % {"hint": _save_as_hint()}
            ) from exc
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: refused as binary below
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


def _csv_rows(text: str) -> list[RawRow]:
    """The file's non-blank records with their line (record) numbers.

    Bounded like a workbook: at most ``2 × IMPORT_MAX_ROWS + 1000`` records, blank ones included, are
    read, and reading stops one filled row past the limit (the caller reports "too many rows")."""
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    max_rows = courses_setting("IMPORT_MAX_ROWS")
    max_columns = courses_setting("IMPORT_MAX_CELLS_PER_ROW")
    max_read = max_rows * 2 + 1000
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[RawRow] = []
    record = last_start = 0
    while True:
        start = reader.line_num + 1  # the text line this record starts on
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # A field past the csv module's size limit: an unclosed quotation mark, or a cell too long.
            raise _csv_problem(text, delimiter, record + 1, start) from exc
        record, last_start = record + 1, start
        if record > max_read:
            raise _file_error(
                _("The file has more than %(count)d lines, most of them empty. Delete the empty lines and try again.")
                % {"count": max_read}
            )
        if not any(value.strip() for value in row):
            continue
        if len(row) > max_columns:
            # The same bound as a workbook's; trailing empty fields (Excel writes ";;;") are fine.
            beyond = [index for index, value in enumerate(row[max_columns:], start=max_columns) if value.strip()]
            if beyond:
                raise _file_error(too_many_columns(record, beyond[0] + 1, max_columns), line=record)
        rows.append((record, row, False))
        if len(rows) > max_rows + 1:
            return rows
    # The csv module ends a quotation mark left open at the end of the file as if it closed there,
    # having read every line after it into one cell: look for one in the last record.
    if record and '"' in text:
        problem = _csv_scan(text, delimiter, csv.field_size_limit(), _line_offset(text, last_start))
        if problem is not None:
            raise _csv_problem(text, delimiter, record, last_start, problem)
    return rows


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _line_offset(text: str, line: int) -> int:
    """Where text line ``line`` (1 = the first) starts; lines end as the csv module ends them."""
    if line <= 1:
        return 0
    match = next(itertools.islice(_LINE_BREAK.finditer(text), line - 2, None), None)
    return match.end() if match else len(text)


@functools.lru_cache(maxsize=8)
def _csv_patterns(delimiter: str, max_chars: int) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """Fields as the csv module reads them (non-strict): one field; a well-formed field and its
    delimiter; a run of those. Possessive quantifiers: no backtracking, whatever the text."""
    d, n = re.escape(delimiter), max_chars
    field = re.compile(rf'"[^"]*+(?:""[^"]*+)*+("?)[^{d}\r\n]*+|[^{d}\r\n]*+')
    # Closed and at most max_chars long, so that a field the csv module refuses is never skipped.
    good = rf'(?:"(?:[^"]|""){{0,{n}}}+"[^{d}\r\n]{{0,{n}}}+|[^"{d}\r\n][^{d}\r\n]{{0,{n}}}+|){d}'
    return field, re.compile(good), re.compile(rf"(?:{good})*+")


def _csv_scan(text: str, delimiter: str, max_chars: int, position: int) -> tuple[str, int, int] | None:
    """In the record starting at ``position``, the first unclosed quotation mark or over-long field:
    (kind, field index, length), or None.

    Follows the csv module's reading (non-strict): a field that starts with a quotation mark runs
    to the next lone one, then to the next delimiter; any other field runs to the next delimiter or
    line break, which ends the record. Well-formed fields are skipped in one regular-expression step,
    so a record of a million fields costs milliseconds.
    """
    field, good, run = _csv_patterns(delimiter, max_chars)
    start = position
    position = run.match(text, position).end()
    index, end = 0, len(text)
    while True:
        match = field.match(text, position)
        length = match.end() - match.start()
        kind = "unclosed" if match.group(0).startswith('"') and not match.group(1) else "long"
        if kind == "unclosed" or length > max_chars:
            skipped = sum(1 for _ in good.finditer(text, start, match.start()))
            return (kind, skipped + index, length)
        position = match.end()
        if position >= end or text[position] != delimiter:
            return None
        index += 1
        position += 1


def _csv_problem(
    text: str, delimiter: str, record: int, start: int, problem: tuple[str, int, int] | None = None
) -> EnrollmentFileInvalid:
    """The error for record ``record`` (starting on text line ``start``) that the csv module could not read."""
    problem = problem or _csv_scan(text, delimiter, csv.field_size_limit(), _line_offset(text, start))
    if problem is None:
        return _file_error(
            _("The CSV file cannot be read from line %(line)d on. %(hint)s")
            % {"line": record, "hint": _save_as_hint()},
            line=record,
        )
    kind, index, length = problem
    line = record
    column = None
    if line > 1:
        header = next(csv.reader(io.StringIO(text.split("\n", 1)[0], newline=""), delimiter=delimiter), [])
        column = header_column(header[index]) if index < len(header) else None
    where = _("the column “%(name)s”") % {"name": column} if column else _("column %(number)d") % {"number": index + 1}
    if kind == "unclosed":
        # Column stays None: the rest of the file is unreadable from here, not only this cell.
        return _file_error(
            _(
                'The CSV file cannot be read from line %(line)d on: a quotation mark (") opened in %(where)s on '
                "that line is never closed, so everything after it would be read into that one cell. "
                "%(hint)s"
            )
            % {"line": line, "where": where, "hint": _save_as_hint()},
            line=line,
        )
    return _file_error(
        _("Too long: %(count)d characters; at most %(max)d are allowed.")
        % {
            "count": length,
            "max": {**MAX_LENGTH, "nip": NIP_LENGTH}.get(column, courses_setting("IMPORT_MAX_CELL_CHARS")),
        },
        line=line,
        column=column,
    )


def _xlsx_rows(data: bytes) -> list[RawRow]:
    max_rows = courses_setting("IMPORT_MAX_ROWS")
    cells_per_row = courses_setting("IMPORT_MAX_CELLS_PER_ROW")
    # Empty (formatted) rows are skipped like in CSV, but reading them still costs time: bound them too.
    max_read = max_rows * 2 + 1000
    max_cells = courses_setting("IMPORT_MAX_CELLS")
    limits = Limits(
        unpacked_bytes=courses_setting("IMPORT_MAX_UNPACKED_BYTES"),
        members=courses_setting("IMPORT_MAX_ZIP_MEMBERS"),
        rows=max_read,
        cells=max_cells,
        # A cell is two elements (<c><v>) and up to three attributes, 9 units; the strings' table and
        # the rows add less. A real list of 20,000 participants is about 1.2 million.
        units=6 * max_cells,
        cells_per_row=cells_per_row,
        cell_chars=courses_setting("IMPORT_MAX_CELL_CHARS"),
        # Header and one row too many: enough for the caller to report "too many rows".
        filled_rows=max_rows + 2,
    )
    try:
        rows = read_first_sheet(data, limits=limits)
    except XlsxLimit as exc:
        raise _file_error(exc.message, line=exc.line) from exc
    except XlsxDamaged as exc:
        raise _file_error(
            _("The XLSX file is damaged or is not an Excel workbook. %(hint)s") % {"hint": _save_as_hint()}
        ) from exc
    return [(row.line, row.values, row.hidden) for row in rows]


def _cell_text(value: Any) -> str:
    if type(value) is str:  # every CSV cell and most workbook cells
        return value.strip()
    if value is None or isinstance(value, TooLong):
        return ""
    return str(value).strip()


def _filled(value: Any) -> bool:
    if type(value) is str:
        return bool(value.strip())
    return isinstance(value, TooLong | DateCell) or bool(_cell_text(value))


def _not_text(value: Any, max_length: int) -> str | None:
    """Why a spreadsheet cell cannot be read as text, or None."""
    if isinstance(value, DateCell):
        return _(
            "This cell holds a date or time (%(value)s), not text. Format the column as Text and type the value again."
        ) % {"value": value}
    if isinstance(value, TooLong):
        return _("Too long: %(count)d characters; at most %(max)d are allowed.") % {
            "count": value.length,
            "max": max_length,
        }
    return None


def _nip_cell(value: Any, today: datetime.date) -> str:
    if type(value) is str:
        return nip_validate(value.strip(), today=today)
    if isinstance(value, float):
        raise ValidationError(
            _("The NIP was stored as a number and has lost digits. Format the NIP column as Text and type it again.")
        )
    problem = _not_text(value, NIP_LENGTH)
    if problem:
        raise ValidationError(problem)
    return nip_validate(_cell_text(value), today=today)


def _plain_text(column: str, text: str) -> bool:
    """Whether ``text`` (a cell's stripped text) certainly passes every check of ``_checked_text`` unchanged:
    printable ASCII (so no control or invisible character), short enough, no formula, not empty nor a
    dash, no run of spaces to fold. Most cells are; they skip the checks one by one."""
    return (
        bool(text)
        and text.isascii()
        and text.isprintable()
        and len(text) <= MAX_LENGTH[column]
        and not text.startswith(FORMULA_START)
        and text not in EMPTY_MARKS
        and (column != "full_name" or "  " not in text)
    )


def _text_cell(column: str, value: Any, errors: list[FileError], line: int) -> str:
    if type(value) is str and _plain_text(column, text := value.strip()):
        return text
    return _checked_text(column, value, errors, line)


def _checked_text(column: str, value: Any, errors: list[FileError], line: int) -> str:
    problem = _not_text(value, MAX_LENGTH[column])
    if problem:
        errors.append(FileError(line, column, problem))
        return ""
    text = _WHITESPACE.sub(" ", _cell_text(value)) if column == "full_name" else _cell_text(value)
    if column not in REQUIRED and text in EMPTY_MARKS:
        return ""  # people write "-" for "none" in optional columns
    if column in REQUIRED and not text:
        errors.append(FileError(line, column, _("This column is required and is empty.")))
    elif _CONTROL.search(text):
        errors.append(FileError(line, column, _("Contains invisible control characters; type the value again.")))
    elif invisible := _invisible(text):
        errors.append(FileError(line, column, invisible))
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


def _invisible(text: str) -> str | None:
    try:
        visible_text_validate(text)
    except ValidationError as exc:
        return _validation_message(exc)
    return None


def _validation_message(error: ValidationError) -> str:
    return " ".join(error.messages)


class _FileEmails:
    """Django's ``EmailValidator`` and ``email_canonical`` for the addresses of one file: the same verdict
    and the same form, with what depends on the domain alone (its check, its IDNA form) worked out once
    per domain. A file's addresses share a few domains, and that part costs most of the check."""

    def __init__(self):
        self.validator = EmailValidator()
        self.user_match = self.validator.user_regex.match  # the compiled pattern, not its lazy proxy each time
        self.domains: dict[str, str] = {}  # a valid domain -> its IDNA form

    def __call__(self, email: str) -> str | None:
        """The canonical form of ``email``, or None when EmailValidator refuses it or its domain has no
        IDNA form. The steps of ``EmailValidator.__call__``, in its order."""
        if not email or "@" not in email or len(email) > 320:
            return None
        user, domain = email.rsplit("@", 1)
        if not self.user_match(user):
            return None
        ascii_domain = self.domains.get(domain)
        if ascii_domain is None:
            if domain not in self.validator.domain_allowlist and not self.validator.validate_domain_part(domain):
                return None
            try:
                ascii_domain = email_canonical(f"@{domain}")[1:]
            except UnicodeError:
                return None
            self.domains[domain] = ascii_domain
        return f"{user.lower()}@{ascii_domain}"


class EnrollmentRows(list):
    """The rows of a valid file, and what the operator should know about it (``warnings``): a column
    whose header the import does not know, which is not imported."""

    def __init__(self, rows=(), *, warnings: list[FileError] | None = None):
        super().__init__(rows)
        self.warnings: list[FileError] = list(warnings or [])


def _unknown_header(name: str) -> FileError:
    shown = name if len(name) <= 60 else name[:60] + "…"
    return FileError(
        1,
        None,
        _(
            "The column “%(name)s” is not one the import knows, so it is not imported. Known columns: "
            "nip, full_name (nama lengkap), email (surel), unit (unit kerja, OPD), position (jabatan)."
        )
        % {"name": shown},
    )


def read_enrollment_file(upload: IO[bytes], *, name: str = "", size: int | None = None) -> "EnrollmentRows":
    """Parse and validate an uploaded enrolment file; return its rows or raise EnrollmentFileInvalid.

    Headers may use the Indonesian names (``HEADER_ALIASES``); a header the import does not know
    is reported in the rows' ``warnings``, never silently dropped. Reports every problem at once.
    Pure: reads the file, writes nothing.
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

    if not rows or rows[0][0] != 1 or not any(_filled(v) for v in rows[0][1]):
        raise _file_error(_("Line 1 must be the header row (nip, full_name, email, unit, position)."), line=1)
    header = [_cell_text(v).lstrip("\ufeff") for v in rows[0][1]]
    errors: list[FileError] = []
    warnings: list[FileError] = []
    seen: dict[str, int] = {}
    for index, name_ in enumerate(header):
        column = header_column(name_)
        if column is None:
            if name_:
                warnings.append(_unknown_header(name_))
            continue
        if column in seen:
            errors.append(
                FileError(
                    1,
                    column,
                    _("The column “%(name)s” appears twice in the header (%(headers)s).")
                    % {"name": column, "headers": f"“{header[seen[column]]}”, “{name_}”"},
                )
            )
        seen.setdefault(column, index)
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
        raise EnrollmentFileInvalid(errors)

    data_rows = [(line, row, hidden) for line, row, hidden in rows[1:] if any(map(_filled, row))]
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

    parsed = EnrollmentRows(warnings=warnings)
    today, email_canonical_or_none = timezone.localdate(), _FileEmails()  # once per file, not per row
    # A row's cells in the order of COLUMNS: each row is cut or padded to the header's columns, plus
    # one empty cell that stands for the columns the header lacks.
    width = max(seen.values()) + 1
    pick = operator.itemgetter(*(seen.get(column, width) for column in COLUMNS))
    for line, row, hidden in data_rows:
        nip_cell, name_cell, email_cell, unit_cell, position_cell = pick(
            [*row[:width], *([None] * (width - len(row))), None]
        )
        before = len(errors)
        try:
            nip = _nip_cell(nip_cell, today)
        except ValidationError as exc:
            errors.append(FileError(line, "nip", _validation_message(exc)))
            nip = ""
        full_name = _text_cell("full_name", name_cell, errors, line)
        email = _text_cell("email", email_cell, errors, line)
        if email and (len(errors) == before or not any(e.column == "email" for e in errors[before:])):
            canonical = email_canonical_or_none(email)
            if canonical is None:
                errors.append(
                    FileError(line, "email", _("“%(value)s” is not a valid email address.") % {"value": email})
                )
            else:
                email = canonical
        unit = _text_cell("unit", unit_cell, errors, line)
        position = _text_cell("position", position_cell, errors, line)
        parsed.append(EnrollmentRow(line, nip, full_name, email.lower(), unit, position, hidden))

    errors += _duplicates(parsed, "nip", _("This NIP appears more than once in the file (lines %(lines)s)."))
    errors += _duplicates(
        parsed, "email", _("This email is used for more than one NIP in the file (lines %(lines)s)."), distinct="nip"
    )
    if errors:
        raise EnrollmentFileInvalid(errors)
    return parsed


def _duplicates(rows: list[EnrollmentRow], column: str, message: str, distinct: str | None = None) -> list[FileError]:
    groups: dict[str, list[EnrollmentRow]] = {}
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
