"""Fixtures for the certificates tests: a completed enrolment on a small course."""

import pytest

from courses.services import lesson_complete, quiz_result_record
from tests.factories import CohortFactory, CourseFactory, EnrollmentFactory, LessonFactory, ModuleFactory, QuizFactory


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
