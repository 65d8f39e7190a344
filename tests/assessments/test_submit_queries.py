"""A quiz submit that passes and completes a module costs a small, fixed number of statements."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import AttemptStatus, Choice
from assessments.services import answers_save, attempt_start
from courses.content_cache import module_lesson_ids
from courses.models import LessonCompletion, ModuleProgress
from tests.factories import EnrollmentFactory, LessonFactory, ModuleFactory

from .conftest import build_quiz, right_answers

pytestmark = pytest.mark.django_db

SUBMIT_LIMIT = 12


def _completing_submit(api_client):
    module = ModuleFactory()
    ModuleFactory(course=module.course)  # a second module: the course stays open
    lessons = [LessonFactory(module=module) for _ in range(3)]
    quiz = build_quiz(questions=6, module=module, time_limit_minutes=10)
    enrollment = EnrollmentFactory(cohort__course=module.course)
    LessonCompletion.objects.bulk_create([LessonCompletion(enrollment=enrollment, lesson=lesson) for lesson in lessons])
    user = enrollment.participant.user
    attempt = attempt_start(user=user, quiz=quiz).attempt
    api_client.force_authenticate(user)
    return enrollment, module, attempt, {"answers": right_answers(quiz)}


def test_a_passing_submit_that_completes_a_module_takes_at_most_12_statements(api_client):
    enrollment, module, attempt, body = _completing_submit(api_client)
    with CaptureQueriesContext(connection) as captured:
        response = api_client.post(f"/api/v1/attempts/{attempt.pk}/submit/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["passed"] is True
    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) <= SUBMIT_LIMIT, "\n".join(statements)
    # One savepoint: the service's own transaction, nested in the test's (BEGIN in production).
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == 1, "\n".join(statements)
    progress = ModuleProgress.objects.get(enrollment=enrollment, module=module)
    assert progress.completed_at is not None and progress.quiz_passed_at is not None
    assert progress.best_score == 100
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED


def test_a_changed_answer_key_is_used_by_the_next_submit(api_client):
    enrollment, module, attempt, body = _completing_submit(api_client)
    answers_save(attempt=attempt, answers=[])  # reads (and caches) the answer key
    # Make the first question's right choice a wrong one: the cached key must be forgotten.
    first = body["answers"][0]
    Choice.objects.filter(pk__in=first["choices"]).update(is_correct=False)  # no signal: bypasses the cache
    Choice.objects.filter(question_id=first["question"]).exclude(pk__in=first["choices"]).first().save()
    # save() of a choice of the quiz forgets the key; the update above is then read.
    response = api_client.post(f"/api/v1/attempts/{attempt.pk}/submit/", body, format="json")
    assert response.status_code == 200, response.content
    attempt.refresh_from_db()
    assert attempt.correct_count == len(body["answers"]) - 1


def test_a_lesson_added_after_caching_keeps_the_module_open(api_client):
    enrollment, module, attempt, body = _completing_submit(api_client)
    module_lesson_ids(module)  # cached now
    LessonFactory(module=module)  # not done by the participant
    response = api_client.post(f"/api/v1/attempts/{attempt.pk}/submit/", body, format="json")
    assert response.status_code == 200, response.content
    progress = ModuleProgress.objects.get(enrollment=enrollment, module=module)
    assert progress.quiz_passed_at is not None and progress.completed_at is None
