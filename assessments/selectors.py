"""Reads of the assessments app, each a fixed number of queries."""

import datetime
import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from courses.id_lists import ids_in
from courses.models import Enrollment, Lesson

from .conf import assessments_setting
from .models import Answer, Attempt, AttemptAllowance, AttemptStatus, Choice, Question, Quiz, ReviewPolicy


def _quiz_page_url(quiz_id: int) -> str:
    # A host project may leave out this app's pages; the summary then carries no link.
    try:
        return reverse("assessments:quiz", args=[quiz_id])
    except NoReverseMatch:
        return ""


def quiz_summaries(module_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per module id, the public summary of its quiz and its page's ``url`` (one query; no answers in it)."""
    quizzes = Quiz.objects.filter(module_id__in=module_ids).only(
        "id", "module_id", "title", "pass_mark", "max_attempts", "time_limit_minutes"
    )
    return {
        quiz.module_id: {
            "id": quiz.pk,
            "title": quiz.title,
            "pass_mark": quiz.pass_mark,
            "max_attempts": quiz.max_attempts,
            "time_limit_minutes": quiz.time_limit_minutes,
            "url": _quiz_page_url(quiz.pk),
        }
        for quiz in quizzes
    }


def quiz_get(*, quiz_id: int) -> Quiz | None:
    """A quiz with its module and course (one query); None if there is none."""
    return Quiz.objects.select_related("module__course").filter(pk=quiz_id).first()


def quiz_with_answer_key(*, quiz_id: int) -> Quiz | None:
    """For operators: a quiz with its ordered questions and choices, correct ones marked (three queries)."""
    return (
        Quiz.objects.filter(pk=quiz_id)
        .prefetch_related(
            Prefetch(
                "questions",
                queryset=Question.objects.order_by("order", "id").prefetch_related(
                    Prefetch("choices", queryset=Choice.objects.order_by("order", "id"))
                ),
            )
        )
        .first()
    )


def attempt_deadline(attempt: Attempt) -> datetime.datetime | None:
    """The moment after which saves and submits are refused: ``expires_at`` plus the grace period."""
    if attempt.expires_at is None:
        return None
    return attempt.expires_at + datetime.timedelta(seconds=assessments_setting("GRACE_SECONDS"))


def attempt_is_past_deadline(attempt: Attempt, now: datetime.datetime | None = None) -> bool:
    deadline = attempt_deadline(attempt)
    return deadline is not None and (now or timezone.now()) > deadline


def attempts_allowed(*, enrollment_id: int, quiz: Quiz) -> int:
    """``quiz.max_attempts`` plus the extra attempts operators granted this enrolment (one query)."""
    extra = AttemptAllowance.objects.filter(enrollment_id=enrollment_id, quiz=quiz).values_list("extra", flat=True)
    return quiz.max_attempts + (extra.first() or 0)


@functools.cache
def _attempts_left_sql() -> str:
    """The statement of ``attempts_left``, written once from the models' tables and columns.

    The same query as the ORM would make (the quiz's limit, its attempts counted, its allowance), without
    compiling two correlated subqueries on every call: that compile was a sixth of a quiz submit's time."""

    def column(model, name: str) -> str:
        return connection.ops.quote_name(model._meta.get_field(name).column)

    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    return (
        f"SELECT q.{column(Quiz, 'max_attempts')},"
        f" (SELECT COUNT(*) FROM {table(Attempt)} a"
        f" WHERE a.{column(Attempt, 'enrollment')} = %s AND a.{column(Attempt, 'quiz')} = q.{column(Quiz, 'id')}),"
        f" COALESCE((SELECT x.{column(AttemptAllowance, 'extra')} FROM {table(AttemptAllowance)} x"
        f" WHERE x.{column(AttemptAllowance, 'enrollment')} = %s"
        f" AND x.{column(AttemptAllowance, 'quiz')} = q.{column(Quiz, 'id')}), 0)"
        f" FROM {table(Quiz)} q WHERE q.{column(Quiz, 'id')} = %s"
    )


def attempts_left(*, enrollment_id: int, quiz: Quiz) -> int:
    """Attempts the enrolment may still start at the quiz; every started attempt counts (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_attempts_left_sql(), [enrollment_id, enrollment_id, quiz.pk])
        row = cursor.fetchone()
    if row is None:
        return 0
    max_attempts, used_count, extra_count = row
    return max(0, max_attempts + extra_count - used_count)


def attempt_for_user(*, user, attempt_id: int) -> Attempt | None:
    """The attempt if ``user`` owns it (one query); None otherwise, so others' attempts look missing."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Attempt.objects.select_related("quiz__module__course")
        .filter(pk=attempt_id, enrollment__participant__user=user)
        .first()
    )


def attempt_answers(*, attempt: Attempt) -> list[dict[str, Any]]:
    """The attempt's saved answers, in the attempt's question order (one query)."""
    saved = dict(Answer.objects.filter(attempt=attempt).values_list("question_id", "choice_ids"))
    return [{"question": qid, "choices": list(saved[qid])} for qid in attempt.question_order if qid in saved]


@dataclass(frozen=True)
class QuizStanding:
    """Where an enrolment stands at a quiz: attempts it may still start, one open now, the quiz passed."""

    attempts_left: int
    attempt_open: bool
    passed: bool


def quiz_standing(*, enrollment_id: int, quiz: Quiz) -> QuizStanding:
    """The enrolment's standing at ``quiz``, extra attempts granted included (one query)."""
    attempts = Attempt.objects.filter(enrollment_id=enrollment_id, quiz_id=OuterRef("pk"))
    used = attempts.order_by().values("quiz_id").annotate(n=Count("pk")).values("n")
    extra = AttemptAllowance.objects.filter(enrollment_id=enrollment_id, quiz_id=OuterRef("pk")).values("extra")[:1]
    row = (
        Quiz.objects.filter(pk=quiz.pk)
        .annotate(
            used=Coalesce(Subquery(used), 0),
            extra=Coalesce(Subquery(extra), 0),
            open=Exists(attempts.filter(status=AttemptStatus.IN_PROGRESS)),
            passed=Exists(attempts.filter(passed=True)),
        )
        .values_list("max_attempts", "used", "extra", "open", "passed")
        .first()
    )
    if row is None:
        return QuizStanding(attempts_left=0, attempt_open=False, passed=False)
    max_attempts, used_count, extra_count, attempt_open, passed = row
    return QuizStanding(
        attempts_left=max(0, max_attempts + extra_count - used_count), attempt_open=attempt_open, passed=passed
    )


class ReviewMode(StrEnum):
    """What the owner of an attempt may see of its answers."""

    NONE = "none"  # still open, or passed at a quiz that never shows its answers: the score only
    REVISIT = "revisit"  # failed while the full review is closed: the score and the lessons to revisit
    FULL = "full"  # each question right or wrong, with its explanation


def review_mode(*, attempt: Attempt, standing: QuizStanding) -> ReviewMode:
    """The review rule: no answer key while the participant can still try again without having passed.

    The full review opens once the quiz is passed (any attempt of the enrolment) or, under the
    default ``after_final`` setting, once no attempt is left to start and none is open — an extra
    attempt granted later closes it again until that attempt is used as well, or the key would
    help with it. A timed-out attempt counts as a failed one. ``allow_review`` False keeps it shut.
    """
    if attempt.status == AttemptStatus.IN_PROGRESS:
        return ReviewMode.NONE
    quiz = attempt.quiz
    last_used = standing.attempts_left == 0 and not standing.attempt_open
    if quiz.allow_review and (standing.passed or (quiz.review == ReviewPolicy.AFTER_FINAL and last_used)):
        return ReviewMode.FULL
    return ReviewMode.NONE if attempt.passed else ReviewMode.REVISIT


def attempt_review_mode(*, attempt: Attempt) -> ReviewMode:
    """``review_mode`` of ``attempt`` for its enrolment as it stands now (one query; none while open)."""
    if attempt.status == AttemptStatus.IN_PROGRESS:
        return ReviewMode.NONE
    return review_mode(attempt=attempt, standing=quiz_standing(enrollment_id=attempt.enrollment_id, quiz=attempt.quiz))


def _revisit_lessons(*, attempt: Attempt, questions: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The lessons tied to the questions answered wrong, once each, in course order (at most one query).

    A wrong question tied to no lesson points to every lesson of the quiz's module: the participant
    failed and is owed somewhere to start, and the module is what the quiz covers.
    """
    found: dict[int, tuple[int, int, int, str]] = {}
    untagged = False
    for qid in attempt.question_order:
        question = questions.get(qid)
        if question is None or attempt.results.get(str(qid)) is not False:
            continue
        if question["lesson_id"] is None:
            untagged = True
        else:
            found[question["lesson_id"]] = (
                question["lesson__module__order"],
                question["lesson__order"],
                question["lesson_id"],
                question["lesson__title"],
            )
    if untagged:
        rows = (
            Lesson.objects.filter(module_id=attempt.quiz.module_id)
            .order_by()
            .values_list("module__order", "order", "pk", "title")
        )
        for module_order, order, pk, title in rows:
            found[pk] = (module_order, order, pk, title)
    return [{"id": pk, "title": title} for _, _, pk, title in sorted(found.values())]


def attempt_detail(*, attempt: Attempt) -> dict[str, Any]:
    """Everything the attempt's owner may see of it (five queries whatever the quiz size, six at most).

    While the attempt is open: its questions and choices in the attempt's own order, and the saved
    answers — nothing that tells a correct choice from a wrong one. Once graded: also the score, and
    by ``review_mode`` either the lessons to revisit (``revisit_lessons``) or each question's
    correctness, explanation and correct choices (``review``), never both.
    """
    quiz = attempt.quiz
    graded = attempt.status != AttemptStatus.IN_PROGRESS
    standing = quiz_standing(enrollment_id=attempt.enrollment_id, quiz=quiz)
    mode = review_mode(attempt=attempt, standing=standing)
    question_fields = ["id", "text", "kind"]
    if mode == ReviewMode.FULL:
        question_fields.append("explanation")
    elif mode == ReviewMode.REVISIT:
        question_fields += ["lesson_id", "lesson__title", "lesson__order", "lesson__module__order"]
    questions = {q["id"]: q for q in Question.objects.filter(pk__in=attempt.question_order).values(*question_fields)}
    choice_fields = ["id", "text"] + (["is_correct"] if mode == ReviewMode.FULL else [])
    choices = {
        c["id"]: c for c in Choice.objects.filter(question_id__in=list(questions)).order_by().values(*choice_fields)
    }
    payload_questions = []
    for qid in attempt.question_order:
        question = questions.get(qid)
        if question is None:  # removed from the quiz since the attempt started
            continue
        payload_questions.append(
            {
                "id": qid,
                "text": question["text"],
                "kind": question["kind"],
                "choices": [
                    {"id": cid, "text": choices[cid]["text"]}
                    for cid in attempt.choice_order.get(str(qid), [])
                    if cid in choices
                ],
            }
        )
    return {
        "id": attempt.pk,
        "quiz": {
            "id": quiz.pk,
            "title": quiz.title,
            "pass_mark": quiz.pass_mark,
            "time_limit_minutes": quiz.time_limit_minutes,
            "allow_review": quiz.allow_review,
            "review": quiz.review,
        },
        "number": attempt.number,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "expires_at": attempt.expires_at,
        "submitted_at": attempt.submitted_at,
        "questions": payload_questions,
        "answers": attempt_answers(attempt=attempt),
        "score_percent": attempt.score_percent if graded else None,
        "passed": attempt.passed if graded else None,
        "attempts_left": standing.attempts_left,
        "review_mode": mode,
        "review": (
            [
                {
                    "question": q["id"],
                    "correct": bool(attempt.results.get(str(q["id"]), False)),
                    "explanation": questions[q["id"]]["explanation"],
                    # The right answer, stated on the page once the full review is open (not in the API).
                    "correct_choices": [c["id"] for c in q["choices"] if choices[c["id"]]["is_correct"]],
                }
                for q in payload_questions
            ]
            if mode == ReviewMode.FULL
            else None
        ),
        "revisit_lessons": (
            _revisit_lessons(attempt=attempt, questions=questions) if mode == ReviewMode.REVISIT else None
        ),
    }


@dataclass(frozen=True)
class QuizOverview:
    """What the quiz page shows a participant before they start or resume."""

    quiz: Quiz
    attempts: list[Attempt]
    open_attempt: Attempt | None
    attempts_left: int
    best_score: int | None
    question_count: int


def quiz_overview(*, quiz: Quiz, enrollment: Enrollment) -> QuizOverview:
    """The enrolment's attempts at ``quiz`` and what is left (four queries)."""
    attempts = list(Attempt.objects.filter(enrollment=enrollment, quiz=quiz).order_by("number"))
    allowed = attempts_allowed(enrollment_id=enrollment.pk, quiz=quiz)
    graded = [a.score_percent for a in attempts if a.score_percent is not None]
    return QuizOverview(
        quiz=quiz,
        attempts=attempts,
        open_attempt=next((a for a in attempts if a.status == AttemptStatus.IN_PROGRESS), None),
        attempts_left=max(0, allowed - len(attempts)),
        best_score=max(graded) if graded else None,
        question_count=Question.objects.filter(quiz=quiz).count(),
    )


def attempts_due_for_expiry(*, now: datetime.datetime | None = None) -> list[int]:
    """Ids of open attempts whose deadline (``expires_at`` plus grace) has passed (one query)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=assessments_setting("GRACE_SECONDS"))
    return list(
        Attempt.objects.filter(status=AttemptStatus.IN_PROGRESS, expires_at__lt=cutoff)
        .order_by("expires_at")
        .values_list("pk", flat=True)
    )


def attempts_left_by_enrollment(
    enrollment_ids: list[int], modules_extras: dict[str, dict[int, Any]]
) -> dict[int, dict[int, int]]:
    """Per enrolment id, per module id with a quiz: the attempts the enrolment may still start there,
    extra attempts granted included (one query whatever the number of enrolments; none without a
    quiz). ``modules_extras["quiz"]`` is ``quiz_summaries`` of the modules (courses' progress reads it
    already), so the quizzes cost no query of their own. Every started attempt counts."""
    quizzes = {q["id"]: (module_id, q["max_attempts"]) for module_id, q in (modules_extras.get("quiz") or {}).items()}
    if not enrollment_ids or not quizzes:
        return {}
    used = (
        Attempt.objects.filter(ids_in("enrollment_id", enrollment_ids), quiz_id__in=list(quizzes))
        .order_by()
        .values("enrollment_id", "quiz_id")
        .annotate(u=Count("pk"), x=Value(0))
        .values_list("enrollment_id", "quiz_id", "u", "x")
    )
    extra = (
        AttemptAllowance.objects.filter(ids_in("enrollment_id", enrollment_ids), quiz_id__in=list(quizzes))
        .order_by()
        .annotate(u=Value(0), x=F("extra"))
        .values_list("enrollment_id", "quiz_id", "u", "x")
    )
    counts: dict[tuple[int, int], list[int]] = {}
    for enrollment_id, quiz_id, used_count, extra_count in used.union(extra, all=True):
        pair = counts.setdefault((enrollment_id, quiz_id), [0, 0])
        pair[0] += used_count
        pair[1] += extra_count
    result: dict[int, dict[int, int]] = {}
    for enrollment_id in enrollment_ids:
        row = result[enrollment_id] = {}
        for quiz_id, (module_id, max_attempts) in quizzes.items():
            used_count, extra_count = counts.get((enrollment_id, quiz_id), (0, 0))
            row[module_id] = max(0, max_attempts + extra_count - used_count)
    return result


@dataclass(frozen=True)
class QuizRecord:
    """An enrolment at one quiz of its course, for the operators' participant page."""

    quiz: Quiz
    attempts: list[Attempt]
    allowance: AttemptAllowance | None
    attempts_left: int
    passed: bool


def enrollment_quiz_records(*, enrollment: Enrollment) -> list[QuizRecord]:
    """Every quiz of the enrolment's course in module order, with each attempt (score, times), the
    extra attempts granted (by whom, why) and the attempts left (three queries)."""
    quizzes = list(
        Quiz.objects.filter(module__course_id=enrollment.cohort.course_id)
        .select_related("module")
        .order_by("module__order", "module_id")
    )
    attempts: dict[int, list[Attempt]] = {}
    for attempt in (
        Attempt.objects.filter(enrollment=enrollment)
        .order_by("quiz_id", "number")
        .defer("question_order", "choice_order", "results")
    ):
        attempts.setdefault(attempt.quiz_id, []).append(attempt)
    allowances = {
        a.quiz_id: a for a in AttemptAllowance.objects.filter(enrollment=enrollment).select_related("granted_by")
    }
    records = []
    for quiz in quizzes:
        tried = attempts.get(quiz.pk, [])
        allowance = allowances.get(quiz.pk)
        extra = allowance.extra if allowance else 0
        records.append(
            QuizRecord(
                quiz=quiz,
                attempts=tried,
                allowance=allowance,
                attempts_left=max(0, quiz.max_attempts + extra - len(tried)),
                passed=any(a.passed for a in tried),
            )
        )
    return records
