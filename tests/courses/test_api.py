"""Catalogue API, token auth and the schema."""

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import (
    ChoiceFactory,
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    ParticipantProfileFactory,
    QuestionFactory,
    QuizFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def participant():
    return ParticipantProfileFactory()


def test_token_login_with_nip_and_password(api_client, participant):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": participant.nip, "password": "correct horse battery"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=participant.user).key}


def test_token_login_with_wrong_password_is_400(api_client, participant):
    response = api_client.post("/api/v1/auth/token/", {"username": participant.nip, "password": "x"}, format="json")
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_course_endpoints_need_a_signed_in_user(api_client):
    course = CourseFactory()
    assert api_client.get("/api/v1/courses/").status_code in (401, 403)
    assert api_client.get(f"/api/v1/courses/{course.slug}/").status_code in (401, 403)


def test_course_list_shows_only_published_courses_with_module_counts(api_client, participant):
    published = CourseFactory(title="A course")
    ModuleFactory.create_batch(2, course=published)
    CourseFactory(published=False)
    api_client.force_authenticate(participant.user)
    response = api_client.get("/api/v1/courses/")
    assert response.status_code == 200
    assert response.json() == [
        {"slug": published.slug, "title": "A course", "description": "A course.", "modules_count": 2}
    ]


def test_course_detail_lists_ordered_modules_lessons_and_quiz_without_answers(
    api_client, participant, django_assert_max_num_queries
):
    course = CourseFactory()
    second = ModuleFactory(course=course, order=2, stage="leadership")
    first = ModuleFactory(course=course, order=1)
    lesson_b = LessonFactory(module=first, order=2)
    lesson_a = LessonFactory(module=first, order=1)
    quiz = QuizFactory(module=first, time_limit_minutes=15)
    ChoiceFactory(question=QuestionFactory(quiz=quiz), is_correct=True)
    api_client.force_authenticate(participant.user)

    with django_assert_max_num_queries(6):
        response = api_client.get(f"/api/v1/courses/{course.slug}/")

    assert response.status_code == 200
    body = response.json()
    assert [m["id"] for m in body["modules"]] == [first.pk, second.pk]
    assert body["modules"][0]["stage"] == "transformation"
    assert [lesson["id"] for lesson in body["modules"][0]["lessons"]] == [lesson_a.pk, lesson_b.pk]
    assert body["modules"][0]["quiz"] == {
        "id": quiz.pk,
        "title": "Quiz",
        "pass_mark": 70,
        "max_attempts": 3,
        "time_limit_minutes": 15,
    }
    assert body["modules"][1]["quiz"] is None
    assert "is_correct" not in response.content.decode()


def test_unpublished_or_unknown_course_is_404(api_client, participant):
    hidden = CourseFactory(published=False)
    api_client.force_authenticate(participant.user)
    assert api_client.get(f"/api/v1/courses/{hidden.slug}/").status_code == 404
    assert api_client.get("/api/v1/courses/nope/").status_code == 404


def test_schema_is_public_openapi_3(api_client):
    response = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/courses/{slug}/" in schema["paths"]
    assert "/api/v1/auth/token/" in schema["paths"]
