"""Benchmark: enrolment import of 1,000 and 10,000 valid rows into a fresh cohort on PostgreSQL.

Run: .venv/bin/python bench/enrollment_import.py
Prints rows/s and SQL queries for each size (CSV and XLSX). Target: 10,000 rows in under 5 s,
with the query count growing with the number of batches, not rows.
"""

import datetime
import io
import time

from _setup import django_on_bench_database

django_on_bench_database("gcio_bench_enrollment")

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from courses import tasks  # noqa: E402
from courses.models import Cohort, Course  # noqa: E402
from courses.services import enrollment_import  # noqa: E402
from tests.courses.enrollment_files import csv_bytes, person, xlsx_bytes  # noqa: E402


def run(kind: str, size: int, offset: int) -> None:
    course, _ = Course.objects.get_or_create(slug="bench", defaults={"title": "Bench"})
    cohort = Cohort.objects.create(
        course=course, name=f"{kind}-{size}", starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 2, 1)
    )
    rows = [person(offset + n) for n in range(size)]
    data = csv_bytes(rows, delimiter=";") if kind == "csv" else xlsx_bytes(rows)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = enrollment_import(cohort=cohort, upload=io.BytesIO(data), name=f"bench.{kind}")
        elapsed = time.perf_counter() - started
    assert result.created == size, result
    print(
        f"{kind:4} {size:>6} rows  {elapsed:6.2f} s  {size / elapsed:8.0f} rows/s  {len(queries):4d} queries  "
        f"({len(data) / 1024:.0f} KiB file)"
    )
    # Re-import of the same file: all unchanged.
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        again = enrollment_import(cohort=cohort, upload=io.BytesIO(data), name=f"bench.{kind}")
        elapsed = time.perf_counter() - started
    assert again.unchanged == size, again
    print(
        f"{kind:4} {size:>6} rows  {elapsed:6.2f} s  {size / elapsed:8.0f} rows/s  {len(queries):4d} queries  (re-import)"
    )


if __name__ == "__main__":
    # Invitations go out from a worker after commit; they are not part of the import's time.
    enqueued = []
    tasks.invitations_send_task.delay = lambda ids: enqueued.append(len(ids))
    print(f"PostgreSQL {connection.cursor().connection.info.server_version}; batch size 1000")
    offset = 0
    for kind in ("csv", "xlsx"):
        for size in (1_000, 10_000):
            run(kind, size, offset)
            offset += size
    print(f"invitation tasks enqueued after commit: {len(enqueued)} for {sum(enqueued)} new participants")
