"""Certificates with the real thing: a Celery worker process on Redis and PostgreSQL."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from certificates.models import Certificate, IssueJob, NumberCounter
from certificates.tasks import certificates_sweep_task
from config.celery import app as celery_app
from courses.models import Enrollment
from courses.services import quiz_result_record
from tests.factories import CohortFactory, EnrollmentFactory
from tests.processes import BROKER_URL, flush_broker, start_worker, wait_until

# Unacknowledged messages come back after 3 s (production: an hour), looked for every second.
FAST_REDELIVERY = {"CELERY_VISIBILITY_TIMEOUT": "3", "CELERY_UNACKED_RESTORE_INTERVAL": "1"}

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("integration tests run on PostgreSQL")


def use_broker(url: str) -> None:
    """Point this process's Celery app at ``url``, dropping connections to the previous broker."""
    celery_app.conf.broker_url = url
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def real_broker():
    """Publish tasks to Redis instead of running them in-process, as a deployment does."""
    flush_broker()
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager = False
    use_broker(BROKER_URL)
    yield
    conf.task_always_eager = saved[0]
    use_broker(saved[1])
    flush_broker()


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


def test_a_worker_killed_mid_issue_still_ends_with_exactly_one_certificate(api_client, course, real_broker, workers):
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    counter = NumberCounter.objects.create(prefix="GCIO-KALTIM", year=timezone.localdate().year)
    # Hold the number counter's row lock from another connection: the worker's issue blocks half-way,
    # after it has locked the enrolment and counted the delivery, before it has a number.
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
    locked.wait(10)
    first = workers(name="doomed", **FAST_REDELIVERY)
    complete_over_the_api(api_client, enrollment)
    wait_until(lambda: IssueJob.objects.filter(enrollment=enrollment, deliveries=1).exists(), timeout=15)
    first.kill()  # SIGKILL in the middle of the issue: the message was never acknowledged
    release.set()
    holder.join()
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
