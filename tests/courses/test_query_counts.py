"""List endpoints cost a fixed number of SQL queries, whatever the number of rows they return."""

import pytest

from courses.services import lesson_complete, quiz_result_record
from tests.factories import CohortFactory, EnrollmentFactory, ParticipantProfileFactory, course_with_modules

pytestmark = pytest.mark.django_db
SMALL, LARGE = 2, 20


@pytest.fixture
def courses():
    """Two courses of two modules (two lessons and a quiz each), so rows span courses."""
    return [course_with_modules(lessons=2) for _ in range(2)]


def get_counting(api_client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = api_client.get(url)
    assert response.status_code == 200
    return response.json(), len(captured.captured_queries)


def test_cohort_list_costs_the_same_for_2_and_20_cohorts(api_client, operator, courses, django_assert_max_num_queries):
    def add_cohorts(start, stop):
        for n in range(start, stop):
            cohort = CohortFactory(course=courses[n % 2])
            EnrollmentFactory.create_batch(n % 3, cohort=cohort)

    api_client.force_authenticate(operator)
    add_cohorts(0, SMALL)
    small, small_queries = get_counting(api_client, "/api/v1/cohorts/", django_assert_max_num_queries, 3)
    add_cohorts(SMALL, LARGE)
    large, large_queries = get_counting(api_client, "/api/v1/cohorts/", django_assert_max_num_queries, 3)
    assert (len(small), len(large)) == (SMALL, LARGE)
    assert large_queries == small_queries


def test_my_enrollments_cost_the_same_for_2_and_20_enrollments(api_client, courses, django_assert_max_num_queries):
    participant = ParticipantProfileFactory()

    def enrol(start, stop):
        for n in range(start, stop):
            enrollment = EnrollmentFactory(participant=participant, cohort=CohortFactory(course=courses[n % 2]))
            first = enrollment.cohort.course.modules.order_by("order").first()
            if n % 3:  # mixed progress: some lessons, some passed quizzes
                lesson_complete(enrollment=enrollment, lesson=first.lessons.first())
            if n % 3 == 2:
                quiz_result_record(enrollment=enrollment, module=first, score_percent=80, passed=True)

    api_client.force_authenticate(participant.user)
    enrol(0, SMALL)
    small, small_queries = get_counting(api_client, "/api/v1/me/enrollments/", django_assert_max_num_queries, 8)
    enrol(SMALL, LARGE)
    large, large_queries = get_counting(api_client, "/api/v1/me/enrollments/", django_assert_max_num_queries, 8)
    assert (len(small), len(large)) == (SMALL, LARGE)
    assert large_queries == small_queries
    assert sorted({item["progress_percent"] for item in large}) == [0, 16, 33]
