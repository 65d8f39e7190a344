"""Fixtures for the certificates tests: a completed enrolment on a small course."""

import datetime

import pytest

from certificates.models import CertificateSettings
from certificates.services import certificate_issue
from courses.services import lesson_complete, quiz_result_record
from tests.certificates.official import SIGNATORY, demo_sealer
from tests.factories import CohortFactory, CourseFactory, EnrollmentFactory, LessonFactory, ModuleFactory, QuizFactory


@pytest.fixture(scope="module")
def sealer(tmp_path_factory):
    """The demo seal, made once a test module."""
    return demo_sealer(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def course():
    course = CourseFactory(title="Pelatihan GCIO", certificate_prefix="GCIO-KALTIM")
    for order in (1, 2):
        module = ModuleFactory(course=course, order=order)
        LessonFactory(module=module, order=1)
        QuizFactory(module=module)
    return course


def complete(enrollment) -> None:
    """Complete every lesson and pass every quiz of the enrolment's course, through courses' services."""
    for module in enrollment.cohort.course.modules.order_by("order"):
        for lesson in module.lessons.all():
            lesson_complete(enrollment=enrollment, lesson=lesson)
        quiz_result_record(enrollment=enrollment, module=module, score_percent=90, passed=True)


@pytest.fixture
def completed(course, django_capture_on_commit_callbacks):
    """A completed enrolment whose certificate the (eager) task has issued."""
    enrollment = EnrollmentFactory(
        cohort=CohortFactory(course=course, name="Angkatan I 2026"),
        participant__full_name="Siti Rahmawati",
        participant__nip="198503302010011002",
    )
    with django_capture_on_commit_callbacks(execute=True):
        complete(enrollment)
    enrollment.refresh_from_db()
    return enrollment


@pytest.fixture
def official_enrollment(db):
    """A completed enrolment (not yet certified) on a course with every certificate setting filled."""
    course = CourseFactory(
        title="Pelatihan Government Chief Information Officer (GCIO)", certificate_prefix="GCIO-KALTIM"
    )
    CertificateSettings.objects.filter(course=course).update(
        title="SERTIFIKAT",
        issuer_name="Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
        issue_place="Samarinda",
        jp=5,
        **SIGNATORY,
    )
    module = ModuleFactory(course=course, order=1)
    LessonFactory(module=module, order=1)
    QuizFactory(module=module)
    enrollment = EnrollmentFactory(
        cohort=CohortFactory(
            course=course,
            name="Angkatan I 2026",
            starts_on=datetime.date(2026, 11, 2),
            ends_on=datetime.date(2026, 11, 27),
        ),
        participant__full_name="Siti Rahmawati, S.Kom., M.Si.",
        participant__nip="198503302010011002",
        participant__position="Kepala Seksi Tata Kelola E-Government",
        participant__unit="Dinas Komunikasi dan Informatika Kabupaten Kutai Kartanegara",
    )
    complete(enrollment)
    enrollment.refresh_from_db()
    return enrollment


@pytest.fixture
def issued(official_enrollment):
    return certificate_issue(enrollment_id=official_enrollment.pk)
