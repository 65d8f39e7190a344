"""Builders of enrolment files for the tests and the benchmark."""

import csv
import io

from openpyxl import Workbook

HEADER = ["nip", "full_name", "email", "unit", "position"]


def nip_for(n: int, sex: int = 1) -> str:
    """A valid NIP, different for each n < 28 * 12 * 1000."""
    day = n % 28 + 1
    month = (n // 28) % 12 + 1
    serial = (n // (28 * 12)) % 1000
    return f"1980{month:02d}{day:02d}2005{month:02d}{sex}{serial:03d}"


def person(n: int, **overrides) -> dict:
    row = {
        "nip": nip_for(n),
        "full_name": f"Peserta Nomor {n}",
        "email": f"peserta{n}@kaltimprov.go.id",
        "unit": "Dinas Komunikasi dan Informatika" if n % 2 else "Badan Perencanaan Pembangunan Daerah",
        "position": "Kepala Bidang",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict], *, delimiter: str = ",", header: list[str] | None = None, encoding="utf-8") -> bytes:
    header = header or HEADER
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column.strip().lower(), "") for column in header])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict], *, header: list[str] | None = None, nip_as=str) -> bytes:
    header = header or HEADER
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([nip_as(row[c]) if c == "nip" else row.get(c, "") for c in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
