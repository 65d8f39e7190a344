"""Fixtures shared by the courses tests."""

import pytest

from courses.signals import course_completed
from tests.factories import CohortFactory, EnrollmentFactory


@pytest.fixture
def enrollment(course):
    """An enrolment in a cohort of the module's ``course`` fixture."""
    return EnrollmentFactory(cohort=CohortFactory(course=course))


@pytest.fixture
def signals():
    """The enrolment ids ``course_completed`` is sent for while the test runs."""
    received = []

    def receiver(sender, enrollment_id, **kwargs):
        received.append(enrollment_id)

    course_completed.connect(receiver, dispatch_uid="tests-course-completed")
    yield received
    course_completed.disconnect(dispatch_uid="tests-course-completed")
