"""Certificates with the real thing: a Celery worker process on Redis and PostgreSQL."""

import hashlib
import os
import signal
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from django.utils import timezone

from certificates.models import Certificate, IssueJob, NumberCounter
from certificates.tasks import certificates_sweep_task
from courses.models import Enrollment
from courses.services import quiz_result_record
from tests.factories import CohortFactory, EnrollmentFactory
from tests.poison_worker_settings import CERTIFICATES_MAX_DELIVERIES as POISON_MAX_DELIVERIES
from tests.poison_worker_settings import POISON_MARKER
from tests.processes import BROKER_URL, process_storage, start_worker, tasks_to_redis, use_broker, wait_until

# Unacknowledged messages come back after 3 s (production: an hour), looked for every second.
FAST_REDELIVERY = {"CELERY_VISIBILITY_TIMEOUT": "3", "CELERY_UNACKED_RESTORE_INTERVAL": "1"}

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("integration tests run on PostgreSQL")


@pytest.fixture
def real_broker():
    """Publish tasks to Redis instead of running them in-process, as a deployment does."""
    with tasks_to_redis():
        yield


@pytest.fixture
def workers(tmp_path):
    started = []

    def start(**kwargs):
        worker = start_worker(tmp_path, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def complete_over_the_api(api_client, enrollment) -> None:
    """Read every lesson through the API and pass every quiz (through courses' service)."""
    api_client.force_authenticate(enrollment.participant.user)
    for module in enrollment.cohort.course.modules.order_by("order"):
        for lesson in module.lessons.order_by("order"):
            response = api_client.post(f"/api/v1/lessons/{lesson.pk}/complete/")
            assert response.status_code == 200, response.content
        quiz_result_record(enrollment=enrollment, module=module, score_percent=100, passed=True)


def test_completing_over_the_api_yields_a_certificate_within_seconds(api_client, course, real_broker, workers):
    workers()
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    complete_over_the_api(api_client, enrollment)
    certificate = wait_until(lambda: Certificate.objects.filter(enrollment=enrollment).first(), timeout=15)
    assert certificate.number.startswith("GCIO-KALTIM/")
    assert Certificate.objects.count() == 1


@contextmanager
def number_counter_locked():
    """Hold this year's number counter row lock from another connection: an issue blocks half-way,
    after it has locked the enrolment and counted the delivery, before it has a number."""
    counter = NumberCounter.objects.create(prefix="GCIO-KALTIM", year=timezone.localdate().year)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with connections["default"].cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM certificates_numbercounter WHERE id = %s FOR UPDATE", [counter.pk])
            locked.set()
            release.wait(60)
            cursor.execute("ROLLBACK")
        connections["default"].close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()


def waiting_for_a_lock() -> bool:
    """Whether some connection to the test database is blocked on a lock (the issue is half-way)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_issue_still_ends_with_exactly_one_certificate(api_client, course, real_broker, workers):
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    with number_counter_locked():
        first = workers(name="doomed", **FAST_REDELIVERY)
        complete_over_the_api(api_client, enrollment)
        wait_until(lambda: IssueJob.objects.filter(enrollment=enrollment, deliveries=1).exists(), timeout=15)
        first.kill()  # SIGKILL in the middle of the issue: the message was never acknowledged
    assert not Certificate.objects.exists()

    workers(name="rescuer", **FAST_REDELIVERY)
    certificate = wait_until(lambda: Certificate.objects.filter(enrollment=enrollment).first(), timeout=45)
    assert Certificate.objects.count() == 1
    # The row is committed before the PDF is rendered; the delivery is marked finished after that.
    job = wait_until(lambda: IssueJob.objects.filter(enrollment=enrollment, attempts=0).first(), timeout=15)
    assert job.deliveries >= 2  # redelivered, not lost; then it finished
    assert certificate.number.endswith("/00001")


def test_broker_down_at_completion_then_the_sweep_issues_the_certificate(api_client, course, real_broker, workers):
    use_broker("redis://127.0.0.1:1/0")  # nothing listens there: the broker is down
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    complete_over_the_api(api_client, enrollment)  # every request still succeeds
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    assert not Certificate.objects.exists()

    use_broker(BROKER_URL)  # the broker is back
    workers(CERTIFICATES_SWEEP_GRACE_SECONDS="0")
    certificates_sweep_task.delay()  # what beat sends every minute
    wait_until(lambda: Certificate.objects.filter(enrollment=enrollment).exists(), timeout=20)
    assert Certificate.objects.count() == 1
    assert Enrollment.objects.get(pk=enrollment.pk).completed_at == enrollment.completed_at


def test_a_prefork_pool_child_killed_mid_issue_is_redelivered_to_its_successor(
    api_client, course, real_broker, workers, tmp_path
):
    # As deployed (prefork pool), with the production visibility timeout (an hour): the message can
    # only come back within the test because the parent rejects it with requeue when its child dies
    # (reject_on_worker_lost); without that, acks_late acknowledges it as failed and it is lost.
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    with number_counter_locked():
        worker = workers(name="prefork", pool="prefork", concurrency=1)
        [child] = worker.children()
        complete_over_the_api(api_client, enrollment)
        wait_until(lambda: IssueJob.objects.filter(enrollment=enrollment, deliveries=1).exists(), timeout=15)
        wait_until(waiting_for_a_lock, timeout=10)  # the child holds the enrolment, waiting for a number
        os.kill(child, signal.SIGKILL)  # only the pool child: the worker itself lives on
        successor = wait_until(lambda: [pid for pid in worker.children() if pid != child], timeout=15)
    assert worker.proc.poll() is None and worker.children() == successor  # the same worker, a new child

    certificate = wait_until(
        lambda: Certificate.objects.filter(enrollment=enrollment).exclude(sha256="").first(), timeout=30
    )
    job = wait_until(lambda: IssueJob.objects.filter(enrollment=enrollment, attempts=0).first(), timeout=10)
    assert Certificate.objects.count() == 1
    assert certificate.number.endswith("/00001")  # the killed child's number was given back
    with process_storage(tmp_path).open(certificate.pdf.name) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == certificate.sha256
    assert job.deliveries == 2  # redelivered once, at once (not after the visibility timeout), then finished
    assert job.failed_at is None
    assert "".join(worker.lines).count("exited with 'signal 9 (SIGKILL)'") == 1


def test_a_poison_message_that_kills_its_pool_child_is_set_aside(api_client, course, real_broker, workers):
    cohort = CohortFactory(course=course)
    poison = EnrollmentFactory(cohort=cohort, participant__full_name=f"{POISON_MARKER} Sianida")
    healthy = EnrollmentFactory(cohort=cohort, participant__full_name="Siti Rahmawati")
    # Rendering a "Racun…" certificate SIGKILLs the pool child, every time; the set-aside limit is 3.
    worker = workers(name="poisoned", pool="prefork", DJANGO_SETTINGS_MODULE="tests.poison_worker_settings")
    complete_over_the_api(api_client, poison)
    complete_over_the_api(api_client, healthy)

    job = wait_until(lambda: IssueJob.objects.filter(enrollment=poison, failed_at__isnull=False).first(), timeout=30)
    # The worker is not stuck behind it: the healthy enrolment gets its certificate.
    certificate = wait_until(
        lambda: Certificate.objects.filter(enrollment=healthy).exclude(sha256="").first(), timeout=15
    )
    time.sleep(4)  # long enough for any further redelivery to show
    job.refresh_from_db()
    assert job.attempts == job.deliveries == POISON_MAX_DELIVERIES + 1  # three kills, then set aside
    assert "too many unfinished deliveries" in job.last_error
    assert Certificate.objects.filter(enrollment=healthy).count() == 1
    assert certificate.holder_name == "Siti Rahmawati"
    # The poison enrolment's row was reserved before rendering, but it has no PDF: nothing was issued.
    assert not Certificate.objects.filter(enrollment=poison).exclude(sha256="").exists()
    assert worker.proc.poll() is None
    assert "".join(worker.lines).count("exited with 'signal 9 (SIGKILL)'") == POISON_MAX_DELIVERIES
