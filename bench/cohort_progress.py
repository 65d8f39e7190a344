"""Benchmark: the cohort progress endpoint (JSON and CSV), and the operator page's exports (semicolon
CSV and XLSX in the page's language), for cohorts of 20, 200 and 2,000 participants.

Run: .venv/bin/python bench/cohort_progress.py (BENCH_DATABASE names the throw-away database)
Fills a throw-away PostgreSQL database with the GCIO course and cohorts at mixed progress, then
prints the median response time of 5 requests and the SQL query count for each format.
Target: 2,000 participants in under 500 ms with at most 10 queries.
"""

import datetime
import os
import statistics
import time

from _setup import django_on_bench_database

django_on_bench_database(os.environ.get("BENCH_DATABASE", "gcio_bench_progress"))

from _cohort import participants_enroll, progress_spread  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from courses.models import Cohort, Course  # noqa: E402

User = get_user_model()


def fill(size: int, offset: int) -> Cohort:
    """A cohort of ``size`` participants spread over every stage of progress (bulk inserts)."""
    course = Course.objects.get(slug="gcio")
    modules = list(course.modules.order_by("order").prefetch_related("lessons"))
    cohort = Cohort.objects.create(
        course=course, name=f"Bench {size}", starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 6, 1)
    )
    progress_spread(participants_enroll(cohort, size=size, offset=offset), modules)
    return cohort


def measure(client: Client, url: str, **params) -> tuple[float, int, int]:
    timings = []
    for _ in range(5):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, params)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return statistics.median(timings) * 1000, len(queries), len(body)


if __name__ == "__main__":
    call_command("loadcurriculum", verbosity=0)
    operator = User.objects.create_superuser("bench-operator", "op@example.org", "x")
    client = Client()
    client.force_login(operator)
    offset = 0
    print(f"{'participants':>12}  {'format':6}  {'median ms':>9}  {'queries':>7}  {'bytes':>9}")
    for size in (20, 200, 2000):
        cohort = fill(size, offset)
        offset += size
        for fmt in ("json", "csv"):
            ms, queries, size_bytes = measure(client, f"/api/v1/cohorts/{cohort.pk}/progress/", format=fmt)
            print(f"{size:>12}  {fmt:6}  {ms:9.1f}  {queries:7d}  {size_bytes:9d}")
        for fmt in ("csv", "xlsx"):
            ms, queries, size_bytes = measure(client, f"/operator/cohorts/{cohort.pk}/progress/", format=fmt)
            print(f"{size:>12}  {'page ' + fmt:6}  {ms:9.1f}  {queries:7d}  {size_bytes:9d}")
