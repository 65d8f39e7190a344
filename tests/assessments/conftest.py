"""Fixtures for the assessments tests: quizzes with known answers, enrolled participants."""

import pytest

from assessments.models import Choice, QuestionKind, Quiz
from tests.factories import ChoiceFactory, EnrollmentFactory, ModuleFactory, QuestionFactory, QuizFactory

# Choices per kind; which ones are correct varies with the question's position.
KIND_CYCLE = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE)


def build_quiz(*, questions: int = 6, kinds=KIND_CYCLE, module=None, **quiz_fields) -> Quiz:
    """A quiz whose questions cycle through ``kinds``. Every choice has the same text, so only ids differ."""
    quiz = QuizFactory(module=module or ModuleFactory(), **quiz_fields)
    for index in range(questions):
        kind = kinds[index % len(kinds)]
        question = QuestionFactory(quiz=quiz, order=index + 1, kind=kind)
        if kind == QuestionKind.TRUE_FALSE:
            correct = {index % 2}
            count = 2
        elif kind == QuestionKind.SINGLE:
            correct = {index % 3}
            count = 3
        else:
            correct = {index % 4, (index + 2) % 4}
            count = 4
        for position in range(count):
            ChoiceFactory(question=question, order=position + 1, is_correct=position in correct)
    return quiz


def answer_key(quiz: Quiz) -> dict[int, list[int]]:
    """Correct choice ids per question id."""
    key: dict[int, list[int]] = {q.pk: [] for q in quiz.questions.all()}
    for choice in Choice.objects.filter(question__quiz=quiz, is_correct=True).order_by("pk"):
        key[choice.question_id].append(choice.pk)
    return key


def wrong_choice(question_id: int) -> int:
    return Choice.objects.filter(question_id=question_id, is_correct=False).order_by("pk").first().pk


def right_answers(quiz: Quiz, *, wrong: int = 0) -> list[dict]:
    """Answers to every question: all right except the first ``wrong`` ones (one wrong choice each)."""
    answers = []
    for index, (question_id, correct) in enumerate(sorted(answer_key(quiz).items())):
        answers.append({"question": question_id, "choices": [wrong_choice(question_id)] if index < wrong else correct})
    return answers


@pytest.fixture
def quiz() -> Quiz:
    return build_quiz(questions=6, time_limit_minutes=10)


@pytest.fixture
def enrollment(quiz):
    return EnrollmentFactory(cohort__course=quiz.module.course)


@pytest.fixture
def participant(enrollment):
    return enrollment.participant.user


@pytest.fixture
def other_participant(quiz):
    return EnrollmentFactory(cohort__course=quiz.module.course).participant.user


@pytest.fixture
def participant_client(api_client, participant):
    api_client.force_authenticate(participant)
    return api_client
