"""Benchmark: the cohort progress endpoint (JSON and CSV) for cohorts of 2,000, 10,000 and 30,000
participants, and the operator page's exports (semicolon CSV and XLSX in the page's language) at 2,000.

Run: .venv/bin/python bench/cohort_progress.py [sizes…] (default 2000 10000 30000; BENCH_DATABASE
names the throw-away database)
Fills a throw-away PostgreSQL database with the GCIO course and cohorts at mixed progress, then
prints per size and format: the median wall time of 3 requests, the CPU time of the process, the
time spent in SQL (as the database driver saw it) and that per 1,000 participants (the curve: flat
means linear), the number of queries, the body size, and the peak Python memory of one more
request (tracemalloc, measured apart because it slows the run).
Targets: 2,000 participants under 300 ms and at most 10 queries; 30,000 with CPU under 2 s, peak
memory under 40 MiB and SQL time growing linearly.
"""

import datetime
import os
import statistics
import sys
import time
import tracemalloc

from _setup import django_on_bench_database

django_on_bench_database(os.environ.get("BENCH_DATABASE", "gcio_bench_progress"))

from _cohort import participants_enroll, progress_spread, statistics_refresh  # noqa: E402
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
    statistics_refresh()
    return cohort


def measure(client: Client, url: str, *, rounds: int = 3, **params) -> dict:
    walls, cpus, sqls = [], [], []
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as queries:
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(url, params)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        assert response.status_code == 200, response.status_code
        sqls.append(sum(float(q["time"]) for q in queries.captured_queries))
        count = len(queries)  # read now: the next request's start empties the connection's query log
    tracemalloc.start()
    response = client.get(url, params)
    b"".join(response.streaming_content) if response.streaming else response.content
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "ms": statistics.median(walls) * 1000,
        "cpu_ms": statistics.median(cpus) * 1000,
        "sql_ms": statistics.median(sqls) * 1000,
        "queries": count,
        "bytes": len(body),
        "peak_mib": peak / 2**20,
    }


if __name__ == "__main__":
    sizes = [int(arg) for arg in sys.argv[1:]] or [2000, 10000, 30000]
    call_command("loadcurriculum", verbosity=0)
    operator = User.objects.create_superuser("bench-operator", "op@example.org", "x")
    client = Client()
    client.force_login(operator)
    offset = 0
    print(
        f"{'participants':>12}  {'format':9}  {'median ms':>9}  {'CPU ms':>7}  {'SQL ms':>7}  "
        f"{'SQL ms/1k':>9}  {'queries':>7}  {'bytes':>10}  {'peak MiB':>8}"
    )
    for size in sizes:
        cohort = fill(size, offset)
        offset += size
        targets = [("json", f"/api/v1/cohorts/{cohort.pk}/progress/", "json")]
        targets.append(("csv", f"/api/v1/cohorts/{cohort.pk}/progress/", "csv"))
        if size <= 2000:  # the page's exports, for people: the XLSX is built in a temporary file
            targets += [("page csv", f"/operator/cohorts/{cohort.pk}/progress/", "csv")]
            targets += [("page xlsx", f"/operator/cohorts/{cohort.pk}/progress/", "xlsx")]
        for label, url, fmt in targets:
            m = measure(client, url, format=fmt)
            print(
                f"{size:>12}  {label:9}  {m['ms']:9.1f}  {m['cpu_ms']:7.1f}  {m['sql_ms']:7.1f}  "
                f"{1000 * m['sql_ms'] / size:9.2f}  {m['queries']:7d}  {m['bytes']:10d}  {m['peak_mib']:8.1f}"
            )
