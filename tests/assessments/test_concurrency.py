"""Races on real PostgreSQL: two submits of one attempt, two starts of one quiz, at the same moment."""

import threading

import pytest
from django.db import connection, connections

from assessments.errors import AlreadySubmitted
from assessments.models import Attempt, AttemptStatus
from assessments.services import attempt_start, attempt_submit
from courses.models import ModuleProgress
from tests.factories import EnrollmentFactory

from .conftest import build_quiz, right_answers

# serialized_rollback: the flush after each test must not wipe (or re-create out of turn) what the migrations
# wrote — content types, permissions, the operators group — for the tests that run after these.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")


def race(*calls):
    """Run the calls in threads released together; each thread has its own database connection."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_submits_at_the_same_moment_grade_exactly_once():
    quiz = build_quiz(questions=6)
    enrollment = EnrollmentFactory(cohort__course=quiz.module.course)
    attempt = attempt_start(user=enrollment.participant.user, quiz=quiz).attempt
    right, wrong = right_answers(quiz), right_answers(quiz, wrong=6)

    outcomes = race(
        lambda: attempt_submit(attempt=Attempt.objects.get(pk=attempt.pk), answers=right).score_percent,
        lambda: attempt_submit(attempt=Attempt.objects.get(pk=attempt.pk), answers=wrong).score_percent,
    )

    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, AlreadySubmitted)
    score = next(value for kind, value in outcomes if kind == "ok")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.score_percent == score and score in (0, 100)
    assert ModuleProgress.objects.get(enrollment=enrollment).best_score == score


def test_two_submits_through_the_api_one_200_one_409():
    from rest_framework.test import APIClient

    quiz = build_quiz(questions=6)
    enrollment = EnrollmentFactory(cohort__course=quiz.module.course)
    user = enrollment.participant.user
    attempt = attempt_start(user=user, quiz=quiz).attempt
    body = {"answers": right_answers(quiz)}

    def submit():
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(f"/api/v1/attempts/{attempt.pk}/submit/", body, format="json")
        return response.status_code, response.json()

    outcomes = race(submit, submit)
    statuses = sorted(value[0] for _, value in outcomes)
    assert statuses == [200, 409], outcomes
    refused = next(value[1] for _, value in outcomes if value[0] == 409)
    assert refused["code"] == "already_submitted"
    assert Attempt.objects.get(pk=attempt.pk).score_percent == 100


def test_two_starts_at_the_same_moment_open_one_attempt():
    quiz = build_quiz(questions=3)
    enrollment = EnrollmentFactory(cohort__course=quiz.module.course)
    user = enrollment.participant.user

    outcomes = race(*[lambda: attempt_start(user=user, quiz=quiz)] * 4)

    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assert len({value.attempt.pk for _, value in outcomes}) == 1
    assert sum(value.created for _, value in outcomes) == 1
    assert Attempt.objects.count() == 1
