"""Who may read a lesson: one rule, the same answer on the page and in the API."""

import pytest

from courses.models import LessonCompletion
from courses.selectors import lesson_access
from tests.factories import CohortFactory, CourseFactory, EnrollmentFactory, LessonFactory, ModuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lessons():
    """The first lesson of an available module and the lesson of the (locked) second module, per publication."""

    def build(*, published: bool):
        course = CourseFactory(published=published)
        first = LessonFactory(module=ModuleFactory(course=course, order=1))
        locked = LessonFactory(module=ModuleFactory(course=course, order=2))
        return course, first, locked

    return build


def page_status(client, user, lesson) -> int:
    client.force_login(user)
    return client.get(f"/lessons/{lesson.pk}/").status_code


def api_status(client, user, lesson) -> int:
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    return api.get(f"/api/v1/lessons/{lesson.pk}/").status_code


# (who, published, which lesson) → (HTTP status on both paths, reason)
CASES = [
    ("enrolled", True, "first", 200, ""),
    ("enrolled", True, "locked", 403, "module_locked"),
    ("outsider", True, "first", 403, "not_enrolled"),
    ("operator", True, "locked", 200, "preview"),
    ("enrolled", False, "first", 404, "unpublished"),
    ("outsider", False, "first", 404, "unpublished"),
    ("operator", False, "first", 200, "preview"),
]


@pytest.mark.parametrize("path", [page_status, api_status], ids=["page", "api"])
@pytest.mark.parametrize(("who", "published", "which", "status", "reason"), CASES)
def test_lesson_access_is_one_rule_on_both_paths(
    client, operator, lessons, path, who, published, which, status, reason
):
    course, first, locked = lessons(published=published)
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    user = {"enrolled": enrollment.participant.user, "outsider": EnrollmentFactory().participant.user}.get(
        who, operator
    )
    lesson = first if which == "first" else locked

    access = lesson_access(user=user, lesson=lesson)
    assert (access.allowed, access.reason) == (status == 200, reason)
    assert access.enrollment == (enrollment if who == "enrolled" and published else None)
    assert path(client, user, lesson) == status


def test_an_operator_previews_an_unpublished_lesson_without_completing_it(client, operator, lessons):
    _, first, _ = lessons(published=False)
    client.force_login(operator)
    page = client.get(f"/lessons/{first.pk}/")
    assert page.status_code == 200 and first.title in page.content.decode()
    assert client.post(f"/lessons/{first.pk}/").status_code == 403
    assert not LessonCompletion.objects.exists()


def test_a_participant_cannot_complete_a_lesson_of_an_unpublished_course(client, lessons):
    course, first, _ = lessons(published=False)
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    client.force_login(enrollment.participant.user)
    assert client.post(f"/lessons/{first.pk}/").status_code == 404
    assert not LessonCompletion.objects.exists()
