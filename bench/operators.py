"""Benchmark: the operators' participants page and its flags for 2,000 participants, and a reminder
run over 10,000.

Run: .venv/bin/python bench/operators.py [--queries]
Fills a throw-away PostgreSQL database with the GCIO course and two running cohorts at mixed
progress (some participants out of attempts, some not yet accepted), then prints, for the 2,000
cohort, the median time of 5 requests and the SQL query count of the participants page, the
enrollments API and the selector alone; and, for the 10,000 cohort, how long a reminder run takes,
how many send tasks it enqueues (batches, not one per person) and how long one batch takes to send.
Targets: at most 10 queries and under 500 ms at 2,000; the reminder run in under 30 s. With
``--queries`` it also lists each request's SQL statements with their times.
"""

import datetime
import statistics
import sys
import time
from unittest import mock

from _setup import django_on_bench_database

django_on_bench_database("gcio_bench_operators")

from _cohort import participants_enroll, progress_spread, statistics_refresh  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from assessments.models import Attempt, AttemptStatus, Quiz  # noqa: E402
from courses import tasks  # noqa: E402
from courses.conf import courses_setting  # noqa: E402
from courses.models import (  # noqa: E402
    Cohort,
    Course,
    Enrollment,
    Module,
    ParticipantMessage,
)
from courses.selectors import cohort_participants_overview  # noqa: E402
from courses.services import participant_messages_send, reminders_send  # noqa: E402

User = get_user_model()


def fill(size: int, offset: int) -> Cohort:
    """A running cohort of ``size`` participants at every stage of progress; every tenth out of
    attempts at the quiz it stands at, only every third with a password yet (bulk inserts)."""
    course = Course.objects.get(slug="gcio")
    modules = list(course.modules.order_by("order").prefetch_related("lessons"))
    quizzes = {q.module_id: q for q in Quiz.objects.filter(module__course=course)}
    today = timezone.localdate()
    cohort = Cohort.objects.create(
        course=course,
        name=f"Bench {size}",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=30),
    )
    enrollments = participants_enroll(cohort, size=size, offset=offset, usable_every=3)
    now = timezone.now()
    attempts = []

    def out_of_attempts(n: int, enrollment: Enrollment, current: Module) -> None:
        quiz = quizzes.get(current.pk)
        if quiz is not None and n % 10 == 0:
            attempts.extend(
                Attempt(
                    enrollment=enrollment,
                    quiz=quiz,
                    number=k + 1,
                    status=AttemptStatus.SUBMITTED,
                    started_at=now - datetime.timedelta(hours=1),
                    submitted_at=now,
                    graded_at=now,
                    score_percent=40,
                )
                for k in range(quiz.max_attempts)
            )

    progress_spread(enrollments, modules, at_current=out_of_attempts)
    Attempt.objects.bulk_create(attempts, batch_size=5000)
    statistics_refresh()
    return cohort


def measure(call, *, show: bool = False) -> tuple[float, int]:
    timings, count = [], 0
    for _ in range(5):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            call()
            timings.append(time.perf_counter() - started)
        count = len(queries)
    if show:  # --queries: what the last request asked the database, and how long each took
        for query in queries.captured_queries:
            print(f"    {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")
    return statistics.median(timings) * 1000, count


if __name__ == "__main__":
    from django.conf import settings
    from django.test.utils import override_settings

    # The page's static links without a collectstatic manifest (the benchmark runs with DEBUG off).
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    call_command("loadcurriculum", verbosity=0)
    # An operator as Diskominfo staff are: a member of the operators group, not a superuser (the page
    # then asks the database whether the user is one).
    operator = User.objects.create_user("bench-operator", "op@example.org", "x")
    operator.groups.add(Group.objects.get(name=courses_setting("OPERATORS_GROUP")))
    client = Client()
    client.force_login(operator)

    cohort = fill(2000, 0)
    overview = cohort_participants_overview(cohort=cohort)
    print(f"2,000 participants; flags: {overview.counts}; not accepted: {overview.not_accepted}")
    print(f"{'what':34}  {'median ms':>9}  {'queries':>7}")

    def page():
        response = client.get(f"/operator/cohorts/{cohort.pk}/participants/")
        assert response.status_code == 200, response.status_code

    def api():
        response = client.get(f"/api/v1/cohorts/{cohort.pk}/enrollments/")
        assert response.status_code == 200 and len(response.json()) == 2000

    for label, call in (
        ("participants page (HTML)", page),
        ("GET /cohorts/{id}/enrollments/", api),
        ("selector (rows + flags + counts)", lambda: cohort_participants_overview(cohort=cohort)),
    ):
        ms, queries = measure(call, show="--queries" in sys.argv)
        print(f"{label:34}  {ms:9.1f}  {queries:7d}")

    big = fill(10_000, 2000)
    batches: list[list[int]] = []
    with mock.patch.object(tasks.participant_messages_send_task, "delay", side_effect=batches.append):
        started = time.perf_counter()
        queued = reminders_send(cohort=big, by=operator)
        run = time.perf_counter() - started
    print(
        f"reminder run over 10,000: {queued} queued in {run:.1f} s as {len(batches)} send tasks "
        f"(largest {max(map(len, batches)) if batches else 0} messages)"
    )
    started = time.perf_counter()
    sent = participant_messages_send(message_ids=batches[0])
    print(f"one send task: {sent} emails in {time.perf_counter() - started:.1f} s ({len(mail.outbox)} in the outbox)")
    started = time.perf_counter()
    again = reminders_send(cohort=big, by=operator)
    print(f"the same run again the same day: {again} queued in {time.perf_counter() - started:.1f} s")
    assert ParticipantMessage.objects.filter(enrollment__cohort=big).count() == queued
