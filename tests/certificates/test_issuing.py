"""Issuing: one certificate per enrolment, gap-free numbers, codes, the PDF, the sweep, poison messages."""

import datetime
import hashlib
import io
import re
import threading

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone
from pypdf import PdfReader

from certificates import services
from certificates.codes import ALPHABET, code_display, code_generate, code_normalize
from certificates.errors import NotCompleted
from certificates.models import Certificate, IssueJob, NumberCounter
from certificates.pdf import date_indonesian
from certificates.tasks import certificate_issue_task, certificates_sweep_task
from courses.models import Enrollment
from tests.certificates.conftest import complete
from tests.factories import CohortFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_completing_the_course_issues_the_certificate_after_commit(course, django_capture_on_commit_callbacks):
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        complete(enrollment)
    assert not Certificate.objects.exists()  # nothing before commit
    with django_capture_on_commit_callbacks(execute=True):  # the receiver enqueues on commit too
        for callback in callbacks:
            callback()
    certificate = Certificate.objects.get()
    assert certificate.enrollment == enrollment
    year = timezone.localdate().year
    assert certificate.number == f"GCIO-KALTIM/{year}/00001"


def test_the_certificate_records_what_it_says(completed):
    certificate = Certificate.objects.get(enrollment=completed)
    assert (certificate.holder_name, certificate.holder_nip, certificate.course_title, certificate.cohort_name) == (
        "Siti Rahmawati",
        "198503302010011002",
        "Pelatihan GCIO",
        "Angkatan I 2026",
    )
    assert certificate.status == "valid"
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{12}", certificate.code)
    pdf = certificate.pdf.read()
    assert pdf.startswith(b"%PDF")
    assert certificate.sha256 == hashlib.sha256(pdf).hexdigest()


def test_issuing_again_returns_the_same_certificate(completed):
    first = Certificate.objects.get()
    for _ in range(3):
        assert services.certificate_issue(enrollment_id=completed.pk).pk == first.pk
        certificate_issue_task.delay(completed.pk)
    assert Certificate.objects.count() == 1
    assert NumberCounter.objects.get().last == 1


def test_an_unfinished_enrollment_gets_no_certificate(course):
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    with pytest.raises(NotCompleted):
        services.certificate_issue(enrollment_id=enrollment.pk)
    assert certificate_issue_task.delay(enrollment.pk).get() is None
    assert not Certificate.objects.exists() and not NumberCounter.objects.exists()


def test_numbers_are_sequential_per_prefix_and_year(course):
    enrollments = [EnrollmentFactory(cohort=CohortFactory(course=course)) for _ in range(3)]
    for enrollment in enrollments:
        Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=datetime.datetime.now(datetime.UTC))
        services.certificate_issue(enrollment_id=enrollment.pk)
    year = timezone.localdate().year
    assert sorted(Certificate.objects.values_list("number", flat=True)) == [
        f"GCIO-KALTIM/{year}/00001",
        f"GCIO-KALTIM/{year}/00002",
        f"GCIO-KALTIM/{year}/00003",
    ]


def test_a_failed_insert_gives_the_number_back(course, monkeypatch):
    first, second = (EnrollmentFactory(cohort=CohortFactory(course=course)) for _ in range(2))
    Enrollment.objects.filter(pk__in=[first.pk, second.pk]).update(completed_at=datetime.datetime.now(datetime.UTC))
    taken = services.certificate_issue(enrollment_id=first.pk)
    monkeypatch.setattr(services, "code_generate", lambda: taken.code)  # a (60-bit) collision
    with pytest.raises(IntegrityError):
        services.certificate_issue(enrollment_id=second.pk)
    assert Certificate.objects.count() == 1 and NumberCounter.objects.get().last == 1
    monkeypatch.undo()
    assert services.certificate_issue(enrollment_id=second.pk).number.endswith("/00002")  # no gap


def test_a_render_failure_keeps_the_number_and_a_retry_finishes_the_pdf(course, monkeypatch, settings):
    settings.CERTIFICATES_SWEEP_GRACE_SECONDS = 0
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=datetime.datetime.now(datetime.UTC))
    original = services.render_sealed_certificate

    def broken(content, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services, "render_sealed_certificate", broken)
    with pytest.raises(OSError):
        services.certificate_issue(enrollment_id=enrollment.pk)
    pending = Certificate.objects.get()
    assert pending.sha256 == "" and not pending.pdf
    assert services.certificates_sweep() == [enrollment.pk]  # the sweep sees the unfinished certificate
    monkeypatch.setattr(services, "render_sealed_certificate", original)
    finished = services.certificate_issue(enrollment_id=enrollment.pk)
    assert finished.pk == pending.pk and finished.number == pending.number
    assert finished.sha256 == hashlib.sha256(finished.pdf.read()).hexdigest()
    assert services.certificates_sweep() == []


def test_codes_are_60_bit_crockford_and_lookups_ignore_case_and_dashes():
    codes = {code_generate() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 12 and set(c) <= set(ALPHABET) for c in codes)
    code = "7KQ29XW4M3HD"
    assert code_display(code) == "7KQ2-9XW4-M3HD"
    for typed in ("7KQ2-9XW4-M3HD", "7kq2-9xw4-m3hd", " 7kq2 9xw4 m3hd ", "7KQ29XW4M3HD"):
        assert code_normalize(typed) == code
    assert code_normalize("OIL0-0000-0000") == "011000000000"  # Crockford: O→0, I/L→1
    for bad in ("", "7KQ2-9XW4", "7KQ2-9XW4-M3HU", "7KQ2-9XW4-M3HD-0000", "'; DROP TABLE"):
        assert code_normalize(bad) is None


def test_the_pdf_text_has_name_nip_number_and_code(completed):
    certificate = Certificate.objects.get()
    text = PdfReader(io.BytesIO(certificate.pdf.read())).pages[0].extract_text()
    assert "Siti Rahmawati" in text
    assert "198503302010011002" in text
    assert certificate.number in text
    assert code_display(certificate.code) in text
    assert "Pelatihan GCIO" in text and "Angkatan I 2026" in text
    # The date printed is the WITA (Asia/Makassar) calendar day, not UTC's.
    assert date_indonesian(timezone.localdate(certificate.issued_at)) in text


@pytest.mark.parametrize("name", ["Nguyễn Văn Ánh", "Łukasz Żółć", "I Gusti Ayu Ngurah Ratih"])
def test_names_outside_latin1_render_and_extract(course, name):
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course), participant__full_name=name)
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=datetime.datetime.now(datetime.UTC))
    certificate = services.certificate_issue(enrollment_id=enrollment.pk)
    reader = PdfReader(io.BytesIO(certificate.pdf.read()))
    assert name in reader.pages[0].extract_text()
    fonts = {str(f["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    # Whatever the script, the same embedded fonts (subsets of Source Serif Pro): none falls back.
    # (Helvetica is ReportLab's initial font, listed but never drawn with.)
    assert fonts - {"/Helvetica"} == {
        "/AAAAAA+SourceSerifPro-Bold",
        "/AAAAAA+SourceSerifPro-Regular",
        "/AAAAAA+SourceSerifPro-It",
    }


def test_an_issued_certificate_never_changes(completed):
    certificate = Certificate.objects.get()
    before = (certificate.sha256, certificate.pdf.read(), certificate.holder_name)
    participant = completed.participant
    participant.full_name = "Nama Lain"
    participant.save()
    assert services.certificate_issue(enrollment_id=completed.pk).pk == certificate.pk
    certificate.refresh_from_db()
    assert (certificate.sha256, certificate.pdf.read(), certificate.holder_name) == before


def test_the_qr_code_decodes_to_the_verification_url(completed, settings):
    import pypdfium2
    import zxingcpp

    certificate = Certificate.objects.get()
    pdf = pypdfium2.PdfDocument(certificate.pdf.read())
    image = pdf[0].render(scale=2).to_pil()
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [f"{settings.SITE_URL}/verify/{code_display(certificate.code)}/"]


# --- the sweep and poison messages -------------------------------------------------------------


def test_the_sweep_finds_completed_enrollments_without_a_certificate(course, settings):
    settings.CERTIFICATES_SWEEP_GRACE_SECONDS = 0
    lost = EnrollmentFactory(cohort=CohortFactory(course=course))
    Enrollment.objects.filter(pk=lost.pk).update(completed_at=datetime.datetime.now(datetime.UTC))  # no signal: lost
    EnrollmentFactory(cohort=CohortFactory(course=course))  # not completed
    assert certificates_sweep_task.delay().get() == 1
    assert Certificate.objects.get().enrollment_id == lost.pk
    assert services.certificates_sweep() == []


def test_the_sweep_does_not_pile_up_copies_while_the_message_waits(course, settings, monkeypatch):
    settings.CERTIFICATES_SWEEP_GRACE_SECONDS = 0
    lost = EnrollmentFactory(cohort=CohortFactory(course=course))
    Enrollment.objects.filter(pk=lost.pk).update(completed_at=datetime.datetime.now(datetime.UTC))
    sent = []
    monkeypatch.setattr(certificate_issue_task, "delay", sent.append)  # the workers are down: nothing runs
    for _ in range(3):
        certificates_sweep_task()
    assert sent == [lost.pk]  # once, not once a minute
    IssueJob.objects.update(last_swept_at=timezone.now() - datetime.timedelta(minutes=11))
    certificates_sweep_task()
    assert sent == [lost.pk, lost.pk]  # after SWEEP_REENQUEUE_SECONDS it is tried again


def test_the_sweep_does_not_reissue_revoked_certificates(completed, settings):
    settings.CERTIFICATES_SWEEP_GRACE_SECONDS = 0
    services.certificate_revoke(certificate=Certificate.objects.get(), reason="salah data")
    assert services.certificates_sweep() == []


def test_a_poison_message_is_set_aside_after_too_many_unfinished_deliveries(course, settings, monkeypatch):
    settings.CERTIFICATES_MAX_DELIVERIES = 3
    settings.CERTIFICATES_SWEEP_GRACE_SECONDS = 0
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=datetime.datetime.now(datetime.UTC))
    calls = []
    monkeypatch.setattr(services, "certificate_issue", lambda **kwargs: calls.append(kwargs) or None)
    # Each start without a finish is a delivery that killed its worker.
    results = [services.issue_delivery_start(enrollment_id=enrollment.pk) for _ in range(5)]
    assert results == [True, True, True, False, False]
    job = IssueJob.objects.get(enrollment=enrollment)
    assert job.failed_at is not None and (job.deliveries, job.attempts) == (5, 5)
    assert certificate_issue_task.delay(enrollment.pk).get() is None
    assert calls == []
    assert services.certificates_sweep() == []  # left to an operator


def test_finished_deliveries_never_count_towards_poison(completed, settings):
    settings.CERTIFICATES_MAX_DELIVERIES = 2
    # Duplicates of an issued certificate's message (a retry, the sweep, a redelivery) each finish.
    numbers = [certificate_issue_task.delay(completed.pk).get() for _ in range(5)]
    assert len(set(numbers)) == 1
    job = IssueJob.objects.get(enrollment=completed)
    assert job.failed_at is None and job.attempts == 0 and job.deliveries >= 5


def test_the_operator_retries_a_job_that_was_set_aside(
    course, settings, admin_client, django_capture_on_commit_callbacks
):
    settings.CERTIFICATES_MAX_DELIVERIES = 1
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=datetime.datetime.now(datetime.UTC))
    for _ in range(2):
        services.issue_delivery_start(enrollment_id=enrollment.pk)  # two deliveries that never finished
    job = IssueJob.objects.get(enrollment=enrollment)
    assert job.failed_at is not None and not Certificate.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/certificates/issuejob/",
            {"action": "retry_issuing", "_selected_action": [job.pk]},
            follow=True,
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert "1 job(s) enqueued again." in response.content.decode()
    job.refresh_from_db()
    assert job.failed_at is None and job.attempts == 0  # then the enqueued task finished
    assert Certificate.objects.get().enrollment_id == enrollment.pk


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_issuing_keeps_numbers_gap_free_and_unique(course):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    enrollments = [EnrollmentFactory(cohort=CohortFactory(course=course)) for _ in range(8)]
    Enrollment.objects.update(completed_at=datetime.datetime.now(datetime.UTC))
    ids = [e.pk for e in enrollments] * 2  # every enrolment issued twice, concurrently
    barrier = threading.Barrier(4)
    errors = []

    def worker(chunk):
        try:
            barrier.wait()
            for enrollment_id in chunk:
                services.certificate_issue(enrollment_id=enrollment_id)
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(ids[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Certificate.objects.values_list("number", flat=True))
    year = timezone.localdate().year
    assert numbers == [f"GCIO-KALTIM/{year}/{n:05d}" for n in range(1, 9)]
    assert Certificate.objects.values("enrollment").distinct().count() == 8


def test_a_visibility_timeout_shorter_than_the_retries_is_a_system_check_error(settings):
    from certificates.checks import retries_fit_the_visibility_timeout

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
    assert [error.id for error in retries_fit_the_visibility_timeout()] == ["certificates.E001"]
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    assert retries_fit_the_visibility_timeout() == []
    settings.CELERY_BROKER_URL = "memory://"  # no visibility timeout without Redis
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 1}
    assert retries_fit_the_visibility_timeout() == []
