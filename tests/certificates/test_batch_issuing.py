"""Batch issuing: completions close together are issued together, with the guarantees of one at a time."""

import datetime
import hashlib
import threading

import pytest
from django.db import IntegrityError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from certificates import services
from certificates.models import Certificate, Credential, IssueJob, NumberCounter, StatusListCounter
from courses.models import Enrollment
from tests.certificates.conftest import complete
from tests.factories import CohortFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("batch issuing needs PostgreSQL (advisory locks); elsewhere it issues one at a time")


def completed_without_certificate(course, count: int) -> list[int]:
    """``count`` enrolments completed a minute apart (no signal: nothing issued yet), oldest first."""
    cohort = CohortFactory(course=course)
    ids = [EnrollmentFactory(cohort=cohort).pk for _ in range(count)]
    start = timezone.now() - datetime.timedelta(hours=1)
    for n, pk in enumerate(ids):
        Enrollment.objects.filter(pk=pk).update(completed_at=start + datetime.timedelta(minutes=n))
    return ids


def numbers(ids: list[int]) -> list[str]:
    by_enrollment = dict(Certificate.objects.values_list("enrollment_id", "number"))
    return [by_enrollment.get(pk) for pk in ids]


def expected(first: int, last: int) -> list[str]:
    year = timezone.localdate().year
    return [f"GCIO-KALTIM/{year}/{n:05d}" for n in range(first, last + 1)]


def stored_files() -> set[str]:
    """The names of this year's certificate PDFs in storage."""
    folder = f"certificates/{timezone.localdate().year}"
    storage = Certificate._meta.get_field("pdf").storage
    return {f"{folder}/{name}" for name in storage.listdir(folder)[1]} if storage.exists(folder) else set()


def rendering_fails_after(count: int):
    """``render_sealed_certificate`` that renders ``count`` certificates, then fails (a full disk)."""
    original, rendered = services.render_sealed_certificate, []

    def render(content, **kwargs):
        if len(rendered) == count:
            raise OSError("disk full")
        rendered.append(content.number)
        return original(content, **kwargs)

    return render


def statements(queries, text: str) -> int:
    return sum(text in query["sql"] for query in queries)


def test_a_batch_issues_every_pending_completion_with_consecutive_numbers_and_one_counter_statement(course):
    ids = completed_without_certificate(course, 6)
    # The counters exist (the very first number and index create theirs first).
    NumberCounter.objects.create(prefix="GCIO-KALTIM", year=timezone.localdate().year)
    StatusListCounter.objects.create(name="revocation")
    with CaptureQueriesContext(connection) as queries:
        lead = services.certificate_issue_batch(enrollment_id=ids[2], claim="delivery-1")
    assert lead.enrollment_id == ids[2] and lead.sha256
    assert numbers(ids) == expected(1, 6)  # in order of completion, the lead among them
    assert statements(queries, 'UPDATE "certificates_numbercounter"') == 1
    assert statements(queries, 'UPDATE "certificates_statuslistcounter"') == 1
    assert statements(queries, 'INSERT INTO "certificates_certificate"') == 1
    assert statements(queries, 'INSERT INTO "certificates_credential"') == 1
    assert statements(queries, 'UPDATE "certificates_certificate"') == 1  # file, SHA-256, sealer of all six
    for certificate in Certificate.objects.all():
        assert certificate.sha256 == hashlib.sha256(certificate.pdf.read()).hexdigest()
        assert certificate.seal_signer
    assert Credential.objects.count() == 6
    assert sorted(Credential.objects.values_list("status_index", flat=True)) == list(range(6))
    assert list(IssueJob.objects.values_list("deliveries", "attempts", "claimed_by").distinct()) == [
        (1, 0, "delivery-1")
    ]


def test_a_batch_costs_the_same_statements_whatever_its_size(course):
    counts = []
    for size in (1, 2, 7):  # the first also creates the counters
        ids = completed_without_certificate(course, size)
        with CaptureQueriesContext(connection) as queries:
            services.certificate_issue_batch(enrollment_id=ids[0], claim=f"delivery-{size}")
        counts.append(len(queries))
    assert Certificate.objects.exclude(sha256="").count() == 10
    assert counts[1] == counts[2]


def test_a_batch_takes_at_most_its_limit_oldest_first(course, settings):
    settings.CERTIFICATES_ISSUE_BATCH = 3
    ids = completed_without_certificate(course, 5)
    services.certificate_issue_batch(enrollment_id=ids[4], claim="delivery-1")
    assert numbers(ids) == [*expected(1, 2), None, None, expected(3, 3)[0]]
    assert not IssueJob.objects.filter(enrollment_id__in=ids[2:4]).exists()  # left for their own messages


def test_a_rerun_batch_and_the_duplicate_messages_create_nothing_more(course):
    ids = completed_without_certificate(course, 4)
    first = services.certificate_issue_batch(enrollment_id=ids[0], claim="delivery-1")
    again = services.certificate_issue_batch(enrollment_id=ids[0], claim="delivery-1")  # the retried task
    others = [services.certificate_issue_batch(enrollment_id=pk, claim=f"delivery-{pk}") for pk in ids[1:]]
    assert again.pk == first.pk
    assert [c.enrollment_id for c in others] == ids[1:]
    assert Certificate.objects.count() == 4 and NumberCounter.objects.get().last == 4
    assert numbers(ids) == expected(1, 4)
    jobs = dict(IssueJob.objects.values_list("enrollment_id", "deliveries"))
    assert jobs == {ids[0]: 2, ids[1]: 2, ids[2]: 2, ids[3]: 2} and not IssueJob.objects.filter(attempts__gt=0)


def test_completions_close_together_are_issued_by_the_first_message(course, django_capture_on_commit_callbacks):
    cohort = CohortFactory(course=course)
    enrollments = [EnrollmentFactory(cohort=cohort) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for enrollment in enrollments:
            complete(enrollment)
    claimed = []
    real = services._issue_claim
    services._issue_claim = lambda **kwargs: claimed.append(sorted(kwargs["enrollment_ids"])) or real(**kwargs)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for callback in callbacks:  # the receivers enqueue one message each
                callback()
    finally:
        services._issue_claim = real
    assert claimed == [sorted(e.pk for e in enrollments)]  # one batch; the other two messages found them issued
    assert numbers([e.pk for e in enrollments]) == expected(1, 3)
    assert Certificate.objects.filter(sha256="").count() == 0


def test_a_batch_whose_rendering_fails_records_what_it_rendered_and_its_retry_issues_the_rest(course, monkeypatch):
    ids = completed_without_certificate(course, 5)
    original = services.render_sealed_certificate
    files_before = stored_files()
    monkeypatch.setattr(services, "render_sealed_certificate", rendering_fails_after(2))
    with pytest.raises(OSError):
        services.certificate_issue_batch(enrollment_id=ids[0], claim="delivery-1")
    done = Certificate.objects.exclude(sha256="").order_by("number")
    assert [c.enrollment_id for c in done] == ids[:2]
    assert all(c.sha256 == hashlib.sha256(c.pdf.read()).hexdigest() for c in done)
    # No file without its row: only the two recorded PDFs were stored.
    assert stored_files() - files_before == {c.pdf.name for c in done}
    # The rest keep their numbers, reserved without a PDF, still claimed by the failed delivery.
    assert numbers(ids) == expected(1, 5)
    assert not Certificate.objects.filter(enrollment_id__in=ids[2:]).exclude(sha256="").exists()
    jobs = {j.enrollment_id: j for j in IssueJob.objects.all()}
    assert [jobs[pk].attempts for pk in ids] == [0, 0, 1, 1, 1]
    assert "disk full" in jobs[ids[2]].last_error

    monkeypatch.setattr(services, "render_sealed_certificate", original)
    lead = services.certificate_issue_batch(enrollment_id=ids[0], claim="delivery-1")  # Celery's retry
    assert lead.number == expected(1, 1)[0]
    assert numbers(ids) == expected(1, 5) and NumberCounter.objects.get().last == 5
    assert Certificate.objects.filter(sha256="").count() == 0
    assert not IssueJob.objects.filter(attempts__gt=0).exists()


def test_a_batch_that_fails_to_record_leaves_nothing_and_its_retry_issues_all(course, monkeypatch):
    ids = completed_without_certificate(course, 4)
    monkeypatch.setattr(services, "code_generate", lambda: "7KQ29XW4M3HD")  # every code collides
    with pytest.raises(IntegrityError):
        services.certificate_issue_batch(enrollment_id=ids[0], claim="delivery-1")
    assert not Certificate.objects.exists() and not Credential.objects.exists()
    assert NumberCounter.objects.filter(last__gt=0).count() == 0  # every number given back
    assert sorted(IssueJob.objects.values_list("attempts", flat=True)) == [1, 1, 1, 1]  # the deliveries count
    monkeypatch.undo()
    services.certificate_issue_batch(enrollment_id=ids[0], claim="delivery-1")
    assert numbers(ids) == expected(1, 4)
    assert Certificate.objects.filter(sha256="").count() == 0
    assert not IssueJob.objects.filter(attempts__gt=0).exists()


def test_enrollments_another_delivery_holds_are_left_to_it(course):
    ids = completed_without_certificate(course, 3)
    other = connections.create_connection("default")  # another worker's session
    try:
        with other.cursor() as cursor:
            for pk in ids[1:]:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", [services.ISSUE_LOCK, pk])
        IssueJob.objects.create(enrollment_id=ids[2], deliveries=1, attempts=1, claimed_by="delivery-other")
        # Its own message while the other delivery's batch issues it: left to that batch.
        assert services.certificate_issue_batch(enrollment_id=ids[2], claim="delivery-2") is None
        services.certificate_issue_batch(enrollment_id=ids[0], claim="delivery-0")
        assert numbers(ids) == [*expected(1, 1), None, None]
        assert list(IssueJob.objects.filter(enrollment_id__in=ids[1:]).values_list("deliveries", flat=True)) == [1]
    finally:
        other.close()  # its locks end with its connection
    services.certificate_issue_batch(enrollment_id=ids[1], claim="delivery-1")
    assert numbers(ids)[1] == expected(2, 2)[0]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_batches_never_take_the_same_enrollment(course, settings):
    settings.CERTIFICATES_ISSUE_BATCH = 4
    ids = completed_without_certificate(course, 24)
    claims, errors = {}, []
    real = services._issue_claim
    lock = threading.Lock()

    def recording_claim(**kwargs):
        claimed = real(**kwargs)
        with lock:
            claims.setdefault(threading.current_thread().name, []).extend(claimed)
        return claimed

    services._issue_claim = recording_claim
    barrier = threading.Barrier(2)

    def worker(leads):
        try:
            barrier.wait()
            for pk in leads:
                services.certificate_issue_batch(enrollment_id=pk, claim=f"{threading.current_thread().name}-{pk}")
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(ids[i::2],), name=f"worker-{i}") for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        services._issue_claim = real
    assert errors == []
    first, second = (set(claims.get(f"worker-{i}", [])) for i in range(2))
    assert first and second  # both issued batches
    assert not first & second and len(claims["worker-0"]) + len(claims["worker-1"]) == 24 == len(first | second)
    assert sorted(numbers(ids)) == expected(1, 24)
    assert Certificate.objects.filter(sha256="").count() == 0


# --- One queued message for a burst of completions (IssueQueue) ------------------------------


@pytest.fixture
def queue(monkeypatch):
    """The issuing messages sent, kept instead of run: (task name, arguments), in order."""
    from certificates import tasks

    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(tasks.certificate_issue_task, "delay", lambda *args: sent.append(("issue", args)))
    monkeypatch.setattr(tasks.certificates_pending_issue_task, "delay", lambda *args: sent.append(("pending", args)))
    return sent


def run_queued(sent: list, start: int = 0) -> int:
    """Run the kept messages from ``start`` in order (those they send too), as a worker would; how many ran."""
    from certificates import tasks

    ran = start
    while ran < len(sent):
        name, args = sent[ran]
        task = tasks.certificate_issue_task if name == "issue" else tasks.certificates_pending_issue_task
        task.apply(args=args, task_id=f"message-{ran}").get()
        ran += 1
    return ran


def completions_commit(enrollment_ids: list[int]) -> None:
    """What each completion does once committed: the signal, whose receiver decides on a message."""
    from courses.signals import course_completed

    for pk in enrollment_ids:
        course_completed.send(sender=Enrollment, enrollment_id=pk)


def test_a_burst_of_completions_sends_one_message_and_full_batches_queue_the_next(
    course, settings, queue, django_capture_on_commit_callbacks
):
    settings.CERTIFICATES_ISSUE_BATCH = 4
    ids = completed_without_certificate(course, 10)
    with django_capture_on_commit_callbacks(execute=True):
        completions_commit(ids)
    assert queue == [("issue", (ids[0],))]  # the others wait for the queued task
    run_queued(queue)
    # 4 with the first as lead (full: the next is queued), 4 more (full), the last 2 (not full: done).
    assert queue == [("issue", (ids[0],)), ("pending", ()), ("pending", ())]
    assert numbers(ids) == expected(1, 10)
    assert not IssueJob.objects.filter(attempts__gt=0).exists()
    assert Certificate.objects.filter(sha256="").count() == 0


def test_completions_after_the_queued_task_started_send_a_message_again(
    course, queue, django_capture_on_commit_callbacks
):
    first, later = completed_without_certificate(course, 2)
    with django_capture_on_commit_callbacks(execute=True):
        completions_commit([first])
    run_queued(queue)  # it took the mark off as it started
    with django_capture_on_commit_callbacks(execute=True):
        completions_commit([later])
    assert queue == [("issue", (first,)), ("issue", (later,))]
    run_queued(queue, start=1)
    assert numbers([first, later]) == expected(1, 2)


def test_a_stale_mark_no_longer_holds_completions_back(course, settings, queue):
    from certificates.models import IssueQueue

    settings.CERTIFICATES_ISSUE_QUEUE_SECONDS = 10
    assert services.issue_task_wanted() is True
    assert services.issue_task_wanted() is False  # queued, not started
    IssueQueue.objects.update(queued_at=timezone.now() - datetime.timedelta(seconds=11))
    assert services.issue_task_wanted() is True  # its message may have been lost
    services.issue_queue_clear()
    assert services.issue_task_wanted() is True
    settings.CERTIFICATES_ISSUE_QUEUE_SECONDS = 0
    assert services.issue_task_wanted() is True and services.issue_task_wanted() is True  # one message each


def test_a_queued_task_whose_own_enrolment_another_batch_issued_still_claims_the_rest(
    course, queue, django_capture_on_commit_callbacks
):
    ids = completed_without_certificate(course, 3)
    with django_capture_on_commit_callbacks(execute=True):
        completions_commit(ids)
    assert queue == [("issue", (ids[0],))]
    # Before the queued message runs, another delivery (a sweep's, say) issues its enrolment alone.
    services.certificate_issue_batch(enrollment_id=ids[0], claim="sweep-1", limit=1)
    assert numbers(ids) == [expected(1, 1)[0], None, None]
    run_queued(queue)
    assert numbers(ids) == expected(1, 3)


def test_a_broker_down_when_sending_takes_the_mark_off_so_the_next_completion_tries_again(
    course, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from certificates import tasks
    from certificates.models import IssueQueue

    def broker_down(*args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.certificate_issue_task, "delay", broker_down)
    first, second = completed_without_certificate(course, 2)
    with django_capture_on_commit_callbacks(execute=True), caplog.at_level("ERROR"):
        completions_commit([first, second])
    assert IssueQueue.objects.get().queued_at is None
    attempts = [r for r in caplog.records if r.getMessage().startswith("could not enqueue the certificate")]
    assert len(attempts) == 2  # the second completion did not wait behind a message that was never sent
    assert Certificate.objects.count() == 0
    assert sorted(services.certificates_sweep(limit=10)) == [first, second]  # the sweep's, once the broker is back


def test_a_full_batch_whose_next_message_cannot_be_sent_leaves_the_rest_to_the_sweep(course, settings, monkeypatch):
    from certificates import tasks
    from certificates.models import IssueQueue

    settings.CERTIFICATES_ISSUE_BATCH = 2
    settings.CERTIFICATES_SWEEP_GRACE_SECONDS = 0
    ids = completed_without_certificate(course, 3)

    def broker_down(*args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.certificates_pending_issue_task, "delay", broker_down)
    tasks.certificate_issue_task.apply(args=(ids[0],), task_id="m-1").get()
    assert numbers(ids) == [*expected(1, 2), None]
    assert IssueQueue.objects.get().queued_at is None
    assert services.certificates_sweep(limit=10) == [ids[2]]


def test_a_queued_batch_that_fails_mid_way_is_finished_by_its_redelivery(course, monkeypatch):
    """The message that claims the next batch, killed or failing after claiming: the same delivery
    run again (redelivered, or retried) issues what it claimed, then claims on."""
    ids = completed_without_certificate(course, 4)
    original = services.render_sealed_certificate
    monkeypatch.setattr(services, "render_sealed_certificate", rendering_fails_after(1))
    with pytest.raises(OSError):
        services.certificate_issue_pending(claim="next-1", more=lambda: None)
    assert [j for j in IssueJob.objects.filter(attempts__gt=0).values_list("claimed_by", flat=True)] == ["next-1"] * 3
    monkeypatch.setattr(services, "render_sealed_certificate", original)
    assert services.certificate_issue_pending(claim="next-1", more=lambda: None) == 0  # nothing new to claim
    assert numbers(ids) == expected(1, 4)
    assert Certificate.objects.filter(sha256="").count() == 0
    assert not IssueJob.objects.filter(attempts__gt=0).exists()
