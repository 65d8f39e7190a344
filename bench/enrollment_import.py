"""Benchmark: enrolment import on PostgreSQL against its floor (a plain COPY of the same rows), at scale.

Run: .venv/bin/python bench/enrollment_import.py   (BENCH_DATABASE names the throw-away database)
Prints, in one run:
- 1,000 and 10,000 rows (CSV and XLSX), each imported and re-imported, with their queries;
- 10,000 rows imported against a plain COPY of the same rows into the same three tables (ratio);
- 10,000 rows imported with no other users and with 250,000 existing participants (ratio), without
  and with the host's index on lower(email) of the user table (``manage.py indexuseremails``);
- 50,000 rows.
Targets: 10,000 rows within 2x of COPY, 50,000 rows under 15 s, the same time with 250,000 existing
users as with none (ratio about 1). Absolute times vary with the machine's load; the ratios are
measured side by side in the same run. Each import also prints its Python CPU time and the time of
its SQL statements (the COPY itself is not among them: the rest of the wall time is mostly COPY).

Without the index, the one query for accounts outside the profiles' email index reads the user
table whole (about 75 ms at 250,000 users), so 250,000 users / none is 1.4-1.65 against the COPY's
own 1.1-1.4. With it, that lookup is a probe per local part (about 20 ms for 10,000 at 250,000
users, once JIT compiling is off: its cost estimate had it compile for 100 ms).
"""

import datetime
import io
import os
import time
from unittest import mock

from _setup import django_on_bench_database

django_on_bench_database(os.environ.get("BENCH_DATABASE", "gcio_bench_enrollment"))

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from courses import tasks, user_email_index  # noqa: E402
from courses.models import Cohort, Course, Enrollment, ParticipantProfile  # noqa: E402
from courses.services import enrollment_import  # noqa: E402
from tests.courses.enrollment_files import csv_bytes, nip_for, person, xlsx_bytes  # noqa: E402

User = get_user_model()
_cohorts = 0


def new_cohort() -> Cohort:
    global _cohorts
    _cohorts += 1
    course, _ = Course.objects.get_or_create(slug="bench", defaults={"title": "Bench"})
    return Cohort.objects.create(
        course=course, name=f"bench-{_cohorts}", starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 2, 1)
    )


def timed_import(
    data: bytes, kind: str, size: int, expect: str = "created", rollback: bool = False
) -> tuple[float, int]:
    """Wall seconds and queries of one import into a new cohort (also prints the SQL and Python CPU seconds).
    With ``rollback``, the import's transaction is rolled back afterwards, so that it can be repeated."""
    cohort = new_cohort()
    try:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                started, cpu = time.perf_counter(), time.process_time()
                result = enrollment_import(cohort=cohort, upload=io.BytesIO(data), name=f"bench.{kind}")
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            if rollback:
                raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert getattr(result, expect) == size, result
    sql = sum(float(q["time"]) for q in queries.captured_queries)
    print(f"    ({size} rows: Python CPU {cpu:.2f} s, SQL statements {sql:.2f} s of {elapsed:.2f} s)")
    return elapsed, len(queries)


def best_of(repeat: int, measure) -> float:
    """The shortest of ``repeat`` runs: the machine's load only ever adds time."""
    return min(measure() for _ in range(repeat))


def sizes_run(kind: str, size: int, offset: int) -> None:
    rows = [person(offset + n) for n in range(size)]
    data = csv_bytes(rows, delimiter=";") if kind == "csv" else xlsx_bytes(rows)
    elapsed, queries = timed_import(data, kind, size)
    print(
        f"{kind:4} {size:>6} rows  {elapsed:6.2f} s  {size / elapsed:8.0f} rows/s  {queries:4d} queries  "
        f"({len(data) / 1024:.0f} KiB file)"
    )
    elapsed, queries = timed_import(data, kind, size, expect="unchanged")
    print(f"{kind:4} {size:>6} rows  {elapsed:6.2f} s  {size / elapsed:8.0f} rows/s  {queries:4d} queries  (re-import)")


def copy_rows(rows: list[dict], cohort: Cohort | None) -> None:
    """The floor: the rows' users, profiles (and enrolments, with a cohort) written by COPY, keys from the
    sequences, as a loader that trusts its input would."""
    now = timezone.now()
    unusable = make_password(None)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('auth_user', 'id')), "
            "nextval(pg_get_serial_sequence('courses_participantprofile', 'id')) FROM generate_series(1, %s)",
            [len(rows)],
        )
        ids = cursor.fetchall()
        raw = cursor.cursor
        with raw.copy(
            "COPY auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined) FROM STDIN"
        ) as copy:
            for (user_id, _), row in zip(ids, rows, strict=True):
                copy.write_row((user_id, unusable, False, row["nip"], "", "", row["email"], False, True, now))
        # (email_key: the normalised email, on a schema that has it.)
        keyed = any(field.name == "email_key" for field in ParticipantProfile._meta.fields)
        with raw.copy(
            "COPY courses_participantprofile (id, user_id, nip, full_name, unit, position, language, "
            f"created_at, updated_at{', email_key' if keyed else ''}) FROM STDIN"
        ) as copy:
            for (user_id, profile_id), row in zip(ids, rows, strict=True):
                values = (profile_id, user_id, row["nip"], row["full_name"], row["unit"], row["position"], "", now, now)
                copy.write_row((*values, row["email"]) if keyed else values)
        if cohort is not None:
            with raw.copy("COPY courses_enrollment (participant_id, cohort_id, enrolled_at) FROM STDIN") as copy:
                for _, profile_id in ids:
                    copy.write_row((profile_id, cohort.pk, now))


def copy_floor(size: int, offset: int) -> float:
    """Seconds for a plain COPY of ``size`` rows in a transaction that is then rolled back."""
    rows = [person(offset + n) for n in range(size)]
    cohort = new_cohort()
    started = time.perf_counter()
    try:
        with transaction.atomic():
            copy_rows(rows, cohort)
            elapsed = time.perf_counter() - started
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    return elapsed


def existing_participants(count: int) -> None:
    for start in range(0, count, 50_000):
        with transaction.atomic():
            people = [
                person(n, nip=nip_for(n, sex=2), email=f"lama{n}@kaltimprov.go.id")
                for n in range(start, min(count, start + 50_000))
            ]
            copy_rows(people, None)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE auth_user")
        cursor.execute("ANALYZE courses_participantprofile")


def with_index(wanted: bool) -> None:
    """The host's index on lower(email) of the user table, installed or dropped as its command does."""
    (user_email_index.index_install if wanted else user_email_index.index_drop)()
    assert user_email_index.index_usable() is wanted


def best_against_copy(offset: int) -> tuple[float, float, int]:
    """10,000 new rows from ``offset``: the best of 3 plain COPYs of them and the best of 3 imports of
    the same rows as a semicolon CSV (each rolled back, the two alternating), and the import's queries."""
    data = csv_bytes([person(offset + n) for n in range(10_000)], delimiter=";")
    floors, imports = [], []
    for _ in range(3):
        floors.append(copy_floor(10_000, offset))
        imports.append(timed_import(data, "csv", 10_000, rollback=True))
    (seconds, queries) = min(imports)
    return min(floors), seconds, queries


def phases(offset: int) -> None:
    """Where one import of 10,000 new rows spends its time: reading and validating the file, looking
    up the people and accounts it names, writing the accounts, profiles and enrolments (by COPY) and
    the rest; what a plain COPY of the same rows does is only the third."""
    import contextlib
    import functools

    from courses.services import enrollment as service

    spent: dict[str, float] = {}
    steps = {
        "read and validate the file": "read_enrollment_file",
        "look up people and accounts": "_existing_for_rows",
        "write everything (COPY)": "bulk_insert",
    }
    with contextlib.ExitStack() as patches:
        for label, name in steps.items():
            original = getattr(service, name)

            @functools.wraps(original)
            def timed(*args, _original=original, _label=label, **kwargs):
                started = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - started

            patches.enter_context(mock.patch.object(service, name, timed))
        data = csv_bytes([person(offset + n) for n in range(10_000)], delimiter=";")
        total, _queries = timed_import(data, "csv", 10_000, rollback=True)
    print("  where one import of 10,000 new rows spends its time:")
    for label in steps:
        print(f"    {label:30} {spent.get(label, 0.0):6.2f} s")
    print(f"    {'the rest':30} {total - sum(spent.values()):6.2f} s")


if __name__ == "__main__":
    # Invitations go out from a worker after commit; they are not part of the import's time.
    enqueued = []
    tasks.invitations_send_task.delay = lambda ids: enqueued.append(len(ids))
    settings.COURSES_IMPORT_MAX_ROWS = 50_000
    settings.COURSES_IMPORT_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
    settings.COURSES_IMPORT_MAX_BYTES = 20 * 1024 * 1024
    print(f"PostgreSQL {connection.cursor().connection.info.server_version}; batch size 1000")

    # 10,000 rows with no other user, against a plain COPY of the same rows; each the best of 3 runs
    # rolled back, the two alternating.
    offset = 0
    floor, alone, queries = best_against_copy(offset)
    print(f"COPY   10000 rows  {floor:6.2f} s   (users, profiles, enrolments; best of 3)")
    print(
        f"import 10000 rows  {alone:6.2f} s  {queries:4d} queries, with {User.objects.count()} other users (best of 3)"
    )
    print(f"  ratio import / COPY: {alone / floor:.2f}  (target <= 2)")
    # The same with the host's index on lower(email) of the user table (manage.py indexuseremails),
    # which every write to the table also keeps.
    with_index(True)
    floor_indexed, alone_indexed, queries = best_against_copy(offset)
    with_index(False)
    print(f"COPY   10000 rows  {floor_indexed:6.2f} s   with the index on lower(email) (best of 3)")
    print(f"import 10000 rows  {alone_indexed:6.2f} s  {queries:4d} queries, with the index (best of 3)")
    print(f"  ratio import / COPY with the index: {alone_indexed / floor_indexed:.2f}  (target <= 2)")
    phases(offset)
    offset += 10_000

    for kind in ("csv", "xlsx"):
        for size in (1_000, 10_000):
            sizes_run(kind, size, offset)
            offset += size

    # The same import with 250,000 participants already there.
    started = time.perf_counter()
    existing_participants(250_000)
    print(f"(250,000 participants written by COPY in {time.perf_counter() - started:.1f} s)")
    floor_crowded, crowded, queries = best_against_copy(offset)
    offset += 10_000
    print(
        f"import 10000 rows  {crowded:6.2f} s  {queries:4d} queries, with {User.objects.count()} other users (best of 3)"
    )
    print(f"COPY   10000 rows  {floor_crowded:6.2f} s   (same database; best of 3)")
    print(f"  ratio 250,000 users / none: {crowded / alone:.2f}  (target about 1)")
    print(f"  ratio 250,000 users / none for the COPY alone: {floor_crowded / floor:.2f}  (the database's own growth)")
    print(f"  ratio import / COPY:        {crowded / floor_crowded:.2f}")
    started = time.perf_counter()
    with_index(True)
    print(f"(index on lower(email) built over {User.objects.count()} users in {time.perf_counter() - started:.1f} s)")
    floor_crowded_indexed, crowded_indexed, queries = best_against_copy(offset)
    offset += 10_000
    print(f"import 10000 rows  {crowded_indexed:6.2f} s  {queries:4d} queries, 250,000 users and the index (best of 3)")
    print(f"COPY   10000 rows  {floor_crowded_indexed:6.2f} s   (same database; best of 3)")
    print(f"  ratio 250,000 users / none, both with the index: {crowded_indexed / alone_indexed:.2f}  (target about 1)")
    print(f"  the same for the COPY alone: {floor_crowded_indexed / floor_indexed:.2f}  (the database's own growth)")
    print(f"  ratio import / COPY:        {crowded_indexed / floor_crowded_indexed:.2f}")

    rows = [person(offset + n) for n in range(50_000)]
    big, queries = timed_import(csv_bytes(rows, delimiter=";"), "csv", 50_000)
    print(f"import 50000 rows  {big:6.2f} s  {queries:4d} queries  (target < 15 s)")
    print(f"profiles {ParticipantProfile.objects.count()}, enrolments {Enrollment.objects.count()}")
    print(f"invitation tasks enqueued after commit: {len(enqueued)} for {sum(enqueued)} new participants")
