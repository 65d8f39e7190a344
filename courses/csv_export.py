"""CSV that is safe to open in a spreadsheet: formula-like cells neutralised, UTF-8 with BOM, streamed."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

# One rule for what a spreadsheet runs as a formula: the import refuses such text, the export defuses it.
from .enrollment_file import FORMULA_START

BOM = "\ufeff"


def csv_safe(value: Any) -> Any:
    """Prefix text a spreadsheet would run as a formula with an apostrophe, so it stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """Yield the CSV line by line (BOM first, so Excel reads UTF-8), neutralising every cell."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        yield writer.writerow([csv_safe(cell) for cell in row])
