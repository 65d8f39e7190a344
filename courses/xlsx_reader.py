"""Reading the first sheet of an XLSX workbook as a stream, within fixed bounds whatever the file holds."""

import datetime
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

# Excel's own grid: 16,384 columns (A…XFD) by 1,048,576 rows. Anything beyond is not a workbook.
MAX_COLUMN = 16_384
MAX_ROW = 1_048_576
CHUNK = 64 * 1024
# Excel holds at most 32,767 characters in a cell (at most 5 bytes each in XML, "&amp;"), and its tags
# are short: a stretch of more than this without a "<" is no spreadsheet's.
MAX_RUN = 1024 * 1024
# The element and attribute names of the parts read (a workbook uses a few hundred), and how deep
# its elements nest (a dozen levels at most).
MAX_NAMES = 2000
MAX_DEPTH = 100
_REFERENCE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class XlsxDamaged(Exception):
    """The file is not a workbook this reader can read; the text says why (for logs, not for people)."""


class XlsxLimit(Exception):
    """The workbook exceeds one of the bounds; ``message`` says which, for the person who sent it."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class TooLong:
    """A cell whose text is longer than the bound: only its length is kept."""

    length: int


@dataclass(frozen=True)
class DateCell:
    """A cell that holds a date or time (a number with a date format, or a ``t="d"`` cell)."""

    value: datetime.datetime | datetime.date | datetime.time | datetime.timedelta | None

    def __str__(self) -> str:
        return str(self.value) if self.value is not None else "?"


@dataclass(frozen=True)
class SheetRow:
    """A row with at least one non-blank cell: its sheet row number, values by column, hidden or not."""

    line: int
    values: list[Any]
    hidden: bool


@dataclass(frozen=True)
class Limits:
    unpacked_bytes: int  # all zip members read, together
    members: int  # zip members in the file
    rows: int  # <row> elements read, empty ones included
    cells: int  # <c> elements read, empty ones included (and shared strings)
    units: int  # XML parsed, in all the parts read: 3 an element, 1 an attribute
    cells_per_row: int  # the last column that may hold a value
    cell_chars: int  # longer cells become TooLong
    filled_rows: int  # reading stops after this many non-blank rows (the caller reports "too many")


def _unpacked_message(limit: int) -> str:
    return _(
        "The workbook unpacks to more than %(max)s, far more than a list of participants needs. Copy the "
        "participants into a new workbook (or save as CSV) and try again."
    ) % {"max": filesizeformat(limit)}


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _Stop(Exception):
    """Raised by a target to stop parsing early (enough rows read)."""


class _Book:
    """The zip container, and reading its parts within the bounds (shared by all the parts read)."""

    def __init__(self, data: bytes, limits: Limits):
        self.limits = limits
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        infos = self.zip.infolist()
        if len(infos) > limits.members:
            raise XlsxLimit(
                _(
                    "The workbook holds %(count)d parts; at most %(max)d are expected. Save it again as a plain workbook."
                )
                % {"count": len(infos), "max": limits.members}
            )
        names = [info.filename for info in infos]
        if len({name.lower() for name in names}) != len(names):
            # Two parts of one name: Excel could show one and the import read the other.
            raise XlsxDamaged("duplicate member names")
        self.by_name = {name.lower(): info for name, info in zip(names, infos, strict=True)}
        self.bytes_left = limits.unpacked_bytes
        # Elements and attributes: what costs the XML parser time (see Limits.units).
        self.units_left = limits.units

    def info(self, name: str) -> zipfile.ZipInfo | None:
        return self.by_name.get(name.lstrip("/").lower())

    def _chunks(self, name: str) -> Iterator[bytes]:
        """The part's bytes as inflated, counted against its stated size and the budget."""
        info = self.info(name)
        if info is None:
            raise XlsxDamaged(f"missing part {name}")
        if info.file_size > self.bytes_left:
            raise XlsxLimit(_unpacked_message(self.limits.unpacked_bytes))
        stated, run = info.file_size, 0
        with self.zip.open(info) as stream:
            while chunk := stream.read(CHUNK):
                # Headers can lie: count what actually comes out.
                stated -= len(chunk)
                self.bytes_left -= len(chunk)
                if stated < 0:
                    raise XlsxDamaged(f"{name} is larger than its stated size")
                if self.bytes_left < 0:
                    raise XlsxLimit(_unpacked_message(self.limits.unpacked_bytes))
                # Every tag starts with "<", and text holds none: a long stretch without one is a
                # gigantic tag (the parser would build all its attributes) or text no cell can hold.
                first = chunk.find(b"<")
                run = run + len(chunk) if first == -1 else run + first
                if run > MAX_RUN:
                    raise XlsxLimit(
                        _(
                            "The workbook holds a single text or tag of more than %(max)s, which no spreadsheet "
                            "writes. Copy the participants into a new workbook (or save as CSV) and try again."
                        )
                        % {"max": filesizeformat(MAX_RUN)}
                    )
                if first != -1:
                    run = len(chunk) - 1 - chunk.rfind(b"<")
                yield chunk

    def parse(self, name: str, target: Any) -> None:
        """Stream part ``name`` through ``target`` (an ElementTree parser target)."""
        names: set[str] = set()
        depth = [0]
        book = self

        class Counted:
            # Bounds what the parser does per element: its count, and the distinct names it keeps
            # (the parser and expat remember every name they meet for the document's lifetime).
            def start(self, tag: str, attrib: dict[str, str]) -> None:
                # An element costs the parser about three times what an attribute does.
                book.units_left -= 3 + len(attrib)
                if book.units_left < 0:
                    raise XlsxLimit(
                        _(
                            "The workbook's content is far larger (in XML elements and attributes) than a list of "
                            "participants needs. Copy the participants into a new workbook (or save as CSV) and "
                            "try again."
                        )
                    )
                depth[0] += 1
                if depth[0] > MAX_DEPTH:
                    raise XlsxDamaged(f"elements nested more than {MAX_DEPTH} deep in {name}")
                if tag not in names or not names.issuperset(attrib):
                    names.add(tag)
                    names.update(attrib)
                    if len(names) > MAX_NAMES:
                        raise XlsxDamaged(f"more than {MAX_NAMES} distinct names in {name}")
                target.start(tag, attrib)

            def end(self, tag: str) -> None:
                depth[0] -= 1
                target.end(tag)

            data = target.data

            def close(self) -> None:
                pass

        # defusedxml refuses DTDs and entity declarations outright: no entity expansion, no external
        # entities, nothing fetched.
        parser = DefusedXMLParser(target=Counted(), forbid_dtd=True)
        try:
            for chunk in self._chunks(name):
                parser.feed(chunk)
            parser.close()
        except _Stop:
            pass


class _Target:
    """An ElementTree parser target that ignores what it is not told about (each part overrides what it reads)."""

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        pass

    def end(self, tag: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class _Relationships(_Target):
    """Target of a ``.rels`` part: relationship id → (type, target path)."""

    def __init__(self, base: str):
        self.base = base
        self.found: dict[str, tuple[str, str]] = {}

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if _local(tag) == "Relationship" and attrib.get("TargetMode") != "External":
            target = attrib.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(self.base, target)
            self.found[attrib.get("Id", "")] = (attrib.get("Type", ""), posixpath.normpath(path))

    def of_type(self, suffix: str) -> str | None:
        return next((path for kind, path in self.found.values() if kind.endswith(suffix)), None)


class _Workbook(_Target):
    def __init__(self):
        self.first_sheet: tuple[str, str] | None = None  # (relationship id, state)
        self.date1904 = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = _local(tag)
        if name == "workbookPr":
            self.date1904 = attrib.get("date1904", "0").lower() in ("1", "true")
        elif name == "sheet" and self.first_sheet is None:
            self.first_sheet = (attrib.get(f"{{{_RELATIONSHIP}}}id", ""), attrib.get("state", "visible"))


class _Styles(_Target):
    """Which cell formats (``cellXfs`` by index) show a number as a date or time."""

    def __init__(self):
        self.custom: dict[int, str] = {}
        self.xf_formats: list[int] = []
        self.in_cell_xfs = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = _local(tag)
        if name == "numFmt":
            try:
                self.custom[int(attrib.get("numFmtId", ""))] = attrib.get("formatCode", "")
            except ValueError:
                pass
        elif name == "cellXfs":
            self.in_cell_xfs = True
        elif name == "xf" and self.in_cell_xfs:
            try:
                self.xf_formats.append(int(attrib.get("numFmtId", "0")))
            except ValueError:
                self.xf_formats.append(0)

    def end(self, tag: str) -> None:
        if _local(tag) == "cellXfs":
            self.in_cell_xfs = False

    def date_styles(self) -> set[int]:
        dates = set()
        for index, format_id in enumerate(self.xf_formats):
            code = self.custom.get(format_id) or BUILTIN_FORMATS.get(format_id)
            if code and is_date_format(code):
                dates.add(index)
        return dates


class _Text:
    """Collects character data up to a bound, counting (not keeping) the rest."""

    __slots__ = ("parts", "length", "limit")

    def __init__(self, limit: int):
        self.parts: list[str] = []
        self.length = 0
        self.limit = limit

    def add(self, text: str) -> None:
        if self.length <= self.limit:
            self.parts.append(text[: self.limit + 1 - self.length])
        self.length += len(text)

    def value(self) -> str | TooLong:
        return TooLong(self.length) if self.length > self.limit else "".join(self.parts)


# Made lazily: translated only when a sheet is refused, not for every row and cell read.
_TOO_MANY_ROWS = gettext_lazy(
    "The sheet has more than %(count)d rows, most of them empty. Delete the empty rows and try again."
)
_TOO_MANY_CELLS = gettext_lazy(
    "The sheet has more than %(count)d cells, most of them empty. Delete the unused rows and columns."
)


def _counted(count: int, limit: int, refusal) -> int:
    """``count`` with one more element of the sheet; past ``limit`` the sheet is refused with ``refusal``."""
    count += 1
    if count > limit:
        raise XlsxLimit(refusal % {"count": limit})
    return count


class _SharedStrings(_Target):
    """The workbook's string table, each entry a string or TooLong, at most ``limits.cells`` of them."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.strings: list[str | TooLong] = []
        self.current: _Text | None = None
        self.phonetic = 0
        self.in_t = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = _local(tag)
        if name == "si":
            if len(self.strings) >= self.limits.cells:
                raise XlsxLimit(
                    _("The workbook holds more than %(max)d different texts; a list of participants needs far fewer.")
                    % {"max": self.limits.cells}
                )
            self.current = _Text(self.limits.cell_chars)
        elif name == "rPh":  # phonetic guide (furigana): not part of the text
            self.phonetic += 1
        elif name == "t":
            self.in_t = True

    def end(self, tag: str) -> None:
        name = _local(tag)
        if name == "si" and self.current is not None:
            self.strings.append(self.current.value())
            self.current = None
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "t":
            self.in_t = False

    def data(self, text: str) -> None:
        if self.in_t and not self.phonetic and self.current is not None:
            self.current.add(text)


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index


class _Sheet(_Target):
    """Streams ``sheetData``: keeps the non-blank rows, never more cells than the bounds allow."""

    def __init__(self, limits: Limits, strings: list, date_styles: set[int], date1904: bool, hidden_sheet: bool):
        self.limits = limits
        self.strings = strings
        self.date_styles = date_styles
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self.hidden_sheet = hidden_sheet
        self.rows: list[SheetRow] = []
        self.row_elements = 0
        self.cell_elements = 0
        self.line = 0
        self.row_hidden = False
        self.values: dict[int, Any] = {}
        self.column = 0
        self.cell: dict[str, str] | None = None
        self.texts: dict[str, _Text] = {}
        self.capture: _Text | None = None
        self.phonetic = 0
        self.in_inline = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = _local(tag)
        if name == "c":
            self._cell_start(attrib)
        elif name == "row":
            self._row_start(attrib)
        elif self.cell is not None:
            if name == "is":
                self.in_inline = True
            elif name == "rPh":
                self.phonetic += 1
            elif name in ("v", "f") or (name == "t" and self.in_inline):
                self.capture = self.texts.setdefault(name, _Text(self.limits.cell_chars))

    def _row_start(self, attrib: dict[str, str]) -> None:
        self.row_elements = _counted(self.row_elements, self.limits.rows, _TOO_MANY_ROWS)
        number = attrib.get("r")
        if number is None:
            line = self.line + 1
        else:
            try:
                line = int(number)
            except ValueError as exc:
                raise XlsxDamaged(f"row number {number[:20]!r}") from exc
        if not self.line < line <= MAX_ROW:
            # Out of order or repeated: Excel could show one copy and the import read another.
            raise XlsxDamaged(f"row {line} after row {self.line}")
        self.line = line
        # A row of height 0 is as invisible as a hidden one.
        self.row_hidden = attrib.get("hidden", "0").lower() in ("1", "true") or _zero(attrib.get("ht"))
        self.values = {}
        self.column = 0

    def _cell_start(self, attrib: dict[str, str]) -> None:
        self.cell_elements = _counted(self.cell_elements, self.limits.cells, _TOO_MANY_CELLS)
        reference = attrib.get("r")
        if reference is None:
            column = self.column + 1
        else:
            match = _REFERENCE.fullmatch(reference.upper())
            if match is None or int(match.group(2)) != self.line:
                raise XlsxDamaged(f"cell reference {reference[:20]!r} in row {self.line}")
            column = _column_index(match.group(1))
        if not self.column < column <= MAX_COLUMN:
            raise XlsxDamaged(f"column {column} after column {self.column} in row {self.line}")
        self.column = column
        self.cell = attrib
        self.texts = {}

    def end(self, tag: str) -> None:
        name = _local(tag)
        if name == "c":
            self._cell_end()
        elif name == "row":
            self._row_end()
        elif name in ("v", "f", "t"):
            self.capture = None
        elif name == "is":
            self.in_inline = False
        elif name == "rPh":
            self.phonetic -= 1

    def data(self, text: str) -> None:
        if self.capture is not None and not self.phonetic:
            self.capture.add(text)

    def _cell_end(self) -> None:
        attrib, self.cell = self.cell, None
        value = self._value(attrib or {}, self.texts)
        if value is None or value == "":
            return
        if self.column > self.limits.cells_per_row:
            raise XlsxLimit(too_many_columns(self.line, self.column, self.limits.cells_per_row), line=self.line)
        self.values[self.column - 1] = value

    def _row_end(self) -> None:
        if not any(not isinstance(v, str) or v.strip() for v in self.values.values()):
            return
        width = max(self.values) + 1
        values = [self.values.get(index) for index in range(width)]
        self.rows.append(SheetRow(self.line, values, self.row_hidden or self.hidden_sheet))
        if len(self.rows) >= self.limits.filled_rows:
            raise _Stop

    def _value(self, attrib: dict[str, str], texts: dict[str, _Text]) -> Any:
        kind = attrib.get("t", "n")
        if "f" in texts:
            # A formula: shown as such (like openpyxl with data_only=False), so it can be refused.
            formula = texts["f"].value()
            return formula if isinstance(formula, TooLong) else "=" + formula
        if kind == "inlineStr":
            return texts["t"].value() if "t" in texts else ""
        if "v" not in texts:
            return None
        raw = texts["v"].value()
        if isinstance(raw, TooLong):
            return raw
        if not raw.strip():
            return None
        if kind == "s":
            try:
                return self.strings[int(raw)]
            except (ValueError, IndexError) as exc:
                raise XlsxDamaged(f"shared string {raw[:20]!r}") from exc
        if kind in ("str", "e"):
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            try:
                return DateCell(datetime.datetime.fromisoformat(raw.strip()))
            except ValueError:
                return DateCell(None)
        return self._number(raw.strip(), attrib.get("s"))

    def _number(self, raw: str, style: str | None) -> Any:
        try:
            number = float(raw) if any(c in raw for c in ".eE") else int(raw)
        except ValueError as exc:
            raise XlsxDamaged(f"number {raw[:20]!r}") from exc
        if style is not None and style.isdigit() and int(style) in self.date_styles:
            try:
                return DateCell(from_excel(number, self.epoch))
            except (ValueError, OverflowError, TypeError):
                return DateCell(None)
        return number


def _zero(height: str | None) -> bool:
    try:
        return height is not None and float(height) == 0
    except ValueError:
        return False


def too_many_columns(line: int, column: int, limit: int) -> str:
    """The message for a value in ``column`` (1 = A) past the last column read."""
    return _(
        "Line %(line)d has a value in column %(column)s; the import reads at most %(max)d columns. "
        "Delete the columns after the last one it needs."
    ) % {"line": line, "column": _column_letters(column), "max": limit}


def _column_letters(index: int) -> str:
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _relationships(book: _Book, part: str) -> _Relationships:
    folder, name = posixpath.split(part)
    rels = _Relationships(folder)
    path = posixpath.join(folder, "_rels", f"{name}.rels")
    if book.info(path) is not None:
        book.parse(path, rels)
    return rels


def read_first_sheet(data: bytes, *, limits: Limits) -> list[SheetRow]:
    """The non-blank rows of the workbook's first sheet, in order; raise XlsxDamaged or XlsxLimit.

    Every zip member is read as a stream through one budget of unpacked bytes, checked against
    both its stated and its actual size; the XML is parsed as a stream with DTDs refused, and the
    rows, cells and characters kept are bounded, so the time and memory a file costs stay bounded
    whatever it claims or contains. Pure: reads, writes nothing.
    """
    try:
        book = _Book(data, limits)
        package = _relationships(book, "")
        workbook_path = package.of_type("/officeDocument") or "xl/workbook.xml"
        workbook = _Workbook()
        book.parse(workbook_path, workbook)
        if workbook.first_sheet is None:
            raise XlsxDamaged("no sheet")
        relationship, state = workbook.first_sheet
        rels = _relationships(book, workbook_path)
        kind, sheet_path = rels.found.get(relationship, ("", ""))
        if not kind.endswith("/worksheet"):
            raise XlsxDamaged(f"first sheet {relationship!r} is not a worksheet")
        strings = _SharedStrings(limits)
        strings_path = rels.of_type("/sharedStrings")
        if strings_path and book.info(strings_path) is not None:
            book.parse(strings_path, strings)
        styles = _Styles()
        styles_path = rels.of_type("/styles")
        if styles_path and book.info(styles_path) is not None:
            book.parse(styles_path, styles)
        sheet = _Sheet(limits, strings.strings, styles.date_styles(), workbook.date1904, state != "visible")
        book.parse(sheet_path, sheet)
        return sheet.rows
    except (XlsxLimit, XlsxDamaged):
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        ParseError,
        DefusedXmlException,
        EOFError,
        OSError,
        RuntimeError,  # e.g. an encrypted member
        NotImplementedError,  # a compression method zipfile lacks
        ValueError,
        KeyError,
    ) as exc:
        raise XlsxDamaged(f"{type(exc).__name__}: {exc}") from exc
