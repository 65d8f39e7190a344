"""A quiz as a bank: each attempt draws ``draw`` questions in the ``draw_mix`` of kinds, fresh ones first."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from assessments.models import Attempt, Question, QuestionKind, Quiz
from assessments.selectors import attempt_detail
from assessments.services import attempt_start, attempt_submit, quiz_sync
from courses.curriculum import CurriculumError, CurriculumReport
from courses.services import curriculum_load
from tests.factories import EnrollmentFactory, ModuleFactory

from .conftest import build_quiz

pytestmark = pytest.mark.django_db

MIX = {"single": 2, "multiple": 1, "true_false": 1}


def bank_question(key: str, kind: str) -> dict:
    choices = [{"key": "a", "text": "A", "correct": True}, {"key": "b", "text": "B"}]
    return {"key": key, "kind": kind, "text": f"Pertanyaan {key}?", "explanation": "Karena.", "choices": choices}


def bank_data(**quiz_fields) -> dict:
    kinds = ["single"] * 4 + ["multiple"] * 2 + ["true_false"] * 2
    questions = [bank_question(f"q{n}", kind) for n, kind in enumerate(kinds, start=1)]
    return {"title": "Kuis", **quiz_fields, "questions": questions}


def sync(tmp_path: Path, data: dict):
    path = tmp_path / "quiz.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return quiz_sync(module=ModuleFactory(), path=path, report=CurriculumReport())


def kinds_of(attempt: Attempt) -> Counter:
    return Counter(dict(Question.objects.filter(pk__in=attempt.question_order).values_list("pk", "kind")).values())


def test_the_loader_stores_the_draw_and_its_mix(tmp_path):
    quiz = sync(tmp_path, bank_data(draw=4, draw_mix=dict(MIX)))
    quiz.refresh_from_db()
    assert (quiz.draw_count, quiz.draw_mix) == (4, {"single": 2, "multiple": 1, "true_false": 1})
    assert sync(tmp_path, bank_data()).draw_count is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"draw": 9}, "draw must be a whole number from 1 to the number of questions in the bank (8)"),
        ({"draw": 0}, "draw must be a whole number from 1"),
        ({"draw": "8"}, "draw must be a whole number from 1"),
        ({"draw_mix": {"single": 1}}, "draw_mix needs draw"),
        ({"draw": 4, "draw_mix": {"single": 2, "multiple": 1}}, "draw_mix adds up to 3, but draw is 4"),
        (
            {"draw": 4, "draw_mix": {"true_false": 3, "single": 1}},
            "asks for 3 true_false question(s), but the bank has 2",
        ),
        ({"draw": 4, "draw_mix": {"essay": 4}}, "draw_mix maps kinds"),
    ],
)
def test_a_draw_the_bank_cannot_satisfy_is_a_clear_error(tmp_path, fields, message):
    with pytest.raises(CurriculumError) as error:
        sync(tmp_path, bank_data(**fields))
    assert message in str(error.value)
    assert not Quiz.objects.exists()


def test_each_attempt_draws_the_mix_and_a_second_attempt_gets_the_questions_the_first_did_not():
    quiz = build_quiz(
        questions=8, kinds=[QuestionKind.SINGLE] * 4 + [QuestionKind.MULTIPLE] * 2 + [QuestionKind.TRUE_FALSE] * 2
    )
    quiz.draw_count, quiz.draw_mix = 4, dict(MIX)
    quiz.save()
    enrollment = EnrollmentFactory(cohort__course=quiz.module.course)
    user = enrollment.participant.user

    first = attempt_start(user=user, quiz=quiz).attempt
    assert len(first.question_order) == 4 and kinds_of(first) == Counter(MIX)
    assert set(first.choice_order) == {str(qid) for qid in first.question_order}
    assert [q["id"] for q in attempt_detail(attempt=first)["questions"]] == first.question_order
    attempt_submit(attempt=first, answers=[])

    second = attempt_start(user=user, quiz=quiz).attempt
    assert kinds_of(second) == Counter(MIX)
    # The bank holds exactly two of each kind's draw, so the fresh questions make up the whole second draw.
    assert set(second.question_order).isdisjoint(first.question_order)
    graded = attempt_submit(attempt=second, answers=[])
    assert graded.question_count == 4


def test_without_a_draw_every_question_is_asked():
    quiz = build_quiz(questions=5)
    enrollment = EnrollmentFactory(cohort__course=quiz.module.course)
    attempt = attempt_start(user=enrollment.participant.user, quiz=quiz).attempt
    assert sorted(attempt.question_order) == sorted(quiz.questions.values_list("pk", flat=True))


def test_the_gcio_banks_draw_eight_of_at_least_twelve():
    curriculum_load(slug="gcio")
    quizzes = Quiz.objects.filter(module__course__slug="gcio")
    assert quizzes.count() == 4
    for quiz in quizzes:
        assert quiz.questions.count() >= 12
        assert quiz.draw_count == 8 and sum(quiz.draw_mix.values()) == 8
