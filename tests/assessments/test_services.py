"""Attempt services: the lifecycle, every server-side rule, grading, shuffling and expiry."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from assessments import errors
from assessments.models import Answer, Attempt, AttemptAllowance, AttemptStatus, QuestionKind
from assessments.selectors import attempt_detail, attempts_left
from assessments.services import (
    allowance_grant,
    answers_save,
    attempt_expire,
    attempt_start,
    attempt_submit,
    attempts_expire_due,
    score_percent,
)
from courses.models import ModuleProgress, ModuleState
from courses.selectors import module_access
from tests.factories import EnrollmentFactory, ModuleFactory, ParticipantProfileFactory, UserFactory

from .conftest import answer_key, build_quiz, right_answers, wrong_choice
from .helpers import move_deadline

pytestmark = pytest.mark.django_db


def start(user, quiz) -> Attempt:
    return attempt_start(user=user, quiz=quiz).attempt


# --- Starting --------------------------------------------------------------------------------------


def test_start_opens_an_attempt_with_its_order_and_deadline(participant, enrollment, quiz):
    before = timezone.now()
    started = attempt_start(user=participant, quiz=quiz)
    attempt = started.attempt
    assert started.created is True
    assert attempt.enrollment == enrollment
    assert attempt.status == AttemptStatus.IN_PROGRESS
    assert attempt.number == 1
    assert before <= attempt.started_at <= timezone.now()
    assert attempt.expires_at == attempt.started_at + datetime.timedelta(minutes=10)
    questions = list(quiz.questions.order_by("order"))
    assert attempt.question_order == [q.pk for q in questions]
    assert attempt.choice_order == {
        str(q.pk): list(q.choices.order_by("order").values_list("pk", flat=True)) for q in questions
    }
    assert attempt.score_percent is None and attempt.graded_at is None


def test_start_without_time_limit_has_no_deadline(participant):
    quiz = build_quiz(questions=2, time_limit_minutes=None)
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    assert start(participant, quiz).expires_at is None


def test_starting_again_returns_the_open_attempt_without_using_one(participant, enrollment, quiz):
    first = attempt_start(user=participant, quiz=quiz)
    again = attempt_start(user=participant, quiz=quiz)
    assert again.created is False
    assert again.attempt.pk == first.attempt.pk
    assert Attempt.objects.count() == 1
    assert attempts_left(enrollment_id=enrollment.pk, quiz=quiz) == 2


def test_not_enrolled_cannot_start_and_nothing_is_written(quiz):
    stranger = ParticipantProfileFactory().user
    with pytest.raises(errors.NotEnrolled):
        attempt_start(user=stranger, quiz=quiz)
    with pytest.raises(errors.NotEnrolled):
        attempt_start(user=UserFactory(), quiz=quiz)  # staff account without a profile
    assert not Attempt.objects.exists()


def test_enrolled_in_another_course_is_not_enrolled(quiz):
    user = EnrollmentFactory().participant.user
    with pytest.raises(errors.NotEnrolled):
        attempt_start(user=user, quiz=quiz)
    assert not Attempt.objects.exists()


def test_locked_module_cannot_be_started_and_nothing_is_written(participant, quiz):
    later = build_quiz(questions=2, module=ModuleFactory(course=quiz.module.course, order=quiz.module.order + 1))
    with pytest.raises(errors.ModuleLocked) as caught:
        attempt_start(user=participant, quiz=later)
    assert caught.value.code == "module_locked"
    assert not Attempt.objects.exists()


def test_max_attempts_then_no_attempts_left(participant, enrollment, quiz):
    for number in (1, 2, 3):
        attempt = start(participant, quiz)
        assert attempt.number == number
        attempt_submit(attempt=attempt, answers=right_answers(quiz, wrong=6))
    with pytest.raises(errors.NoAttemptsLeft):
        attempt_start(user=participant, quiz=quiz)
    assert Attempt.objects.count() == 3
    assert attempts_left(enrollment_id=enrollment.pk, quiz=quiz) == 0


def test_expired_attempts_count_as_used(participant):
    quiz = build_quiz(questions=2, max_attempts=1, time_limit_minutes=5)
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    move_deadline(start(participant, quiz), seconds_from_now=-3600)
    # The open but timed-out attempt is closed first; then none is left.
    with pytest.raises(errors.NoAttemptsLeft):
        attempt_start(user=participant, quiz=quiz)
    assert list(Attempt.objects.values_list("status", flat=True)) == [AttemptStatus.EXPIRED]


def test_starting_after_the_open_attempt_timed_out_closes_it_and_opens_the_next(participant, quiz):
    first = start(participant, quiz)
    answers_save(attempt=first, answers=right_answers(quiz)[:3])
    move_deadline(first, seconds_from_now=-3600)
    second = attempt_start(user=participant, quiz=quiz)
    assert second.created is True and second.attempt.number == 2
    first.refresh_from_db()
    assert first.status == AttemptStatus.EXPIRED
    assert first.score_percent == 50  # three of six saved answers, all right


def test_an_operator_grant_gives_extra_attempts(participant, enrollment, operator):
    quiz = build_quiz(questions=2, max_attempts=1)
    enrollment = EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    attempt_submit(attempt=start(participant, quiz))
    with pytest.raises(errors.NoAttemptsLeft):
        attempt_start(user=participant, quiz=quiz)

    allowance = allowance_grant(enrollment=enrollment, quiz=quiz, extra=1, granted_by=operator, reason="Sakit")
    assert (allowance.extra, allowance.granted_by, allowance.reason) == (1, operator, "Sakit")
    assert attempts_left(enrollment_id=enrollment.pk, quiz=quiz) == 1
    assert start(participant, quiz).number == 2

    allowance = allowance_grant(enrollment=enrollment, quiz=quiz, extra=2)
    assert allowance.extra == 3
    assert AttemptAllowance.objects.count() == 1
    assert attempts_left(enrollment_id=enrollment.pk, quiz=quiz) == 2


def test_a_grant_must_add_at_least_one(enrollment, quiz):
    with pytest.raises(ValueError):
        allowance_grant(enrollment=enrollment, quiz=quiz, extra=0)
    assert not AttemptAllowance.objects.exists()


# --- Saving answers -------------------------------------------------------------------------------


def saved(attempt) -> dict[int, list[int]]:
    return dict(Answer.objects.filter(attempt=attempt).values_list("question_id", "choice_ids"))


def test_saving_replaces_only_the_questions_given(participant, quiz):
    attempt = start(participant, quiz)
    q1, q2, q3 = attempt.question_order[:3]
    c1 = attempt.choice_order[str(q1)]
    c3 = attempt.choice_order[str(q3)]
    assert answers_save(attempt=attempt, answers=[{"question": q1, "choices": [c1[0]]}]) == 1
    answers_save(attempt=attempt, answers=[{"question": q3, "choices": [c3[1]]}])
    answers_save(attempt=attempt, answers=[{"question": q1, "choices": [c1[1]]}])
    assert saved(attempt) == {q1: [c1[1]], q3: [c3[1]]}
    answers_save(attempt=attempt, answers=[{"question": q1, "choices": []}])  # cleared
    assert saved(attempt) == {q1: [], q3: [c3[1]]}
    assert q2 not in saved(attempt)


def test_saving_again_is_idempotent(participant, quiz):
    attempt = start(participant, quiz)
    answers = right_answers(quiz)
    answers_save(attempt=attempt, answers=answers)
    answers_save(attempt=attempt, answers=answers)
    assert Answer.objects.filter(attempt=attempt).count() == 6


@pytest.mark.parametrize(
    "make_bad",
    [
        pytest.param(lambda a, other: {"question": a[0], "choices": [a[3]]}, id="choice-of-another-question"),
        pytest.param(lambda a, other: {"question": other, "choices": []}, id="question-of-another-quiz"),
        pytest.param(lambda a, other: {"question": 999999, "choices": []}, id="unknown-question"),
        pytest.param(lambda a, other: {"question": a[0], "choices": [a[1], a[2]]}, id="two-choices-for-single"),
        pytest.param(lambda a, other: {"question": a[4], "choices": [a[5], a[5]]}, id="same-choice-twice"),
        pytest.param(lambda a, other: {"question": a[0], "choices": [True]}, id="boolean-id"),
        pytest.param(lambda a, other: {"question": "x", "choices": []}, id="text-id"),
    ],
)
def test_invalid_answers_are_refused_and_nothing_is_written(participant, quiz, make_bad):
    attempt = start(participant, quiz)
    single, multiple = attempt.question_order[0], attempt.question_order[1]
    single_choices, multiple_choices = attempt.choice_order[str(single)], attempt.choice_order[str(multiple)]
    # a = (single question, two of its choices, a choice of the multiple question, that question, another of its choices)
    a = (single, single_choices[0], single_choices[1], multiple_choices[0], multiple, multiple_choices[1])
    other = build_quiz(questions=1).questions.get().pk
    good = {"question": multiple, "choices": [multiple_choices[0]]}
    with pytest.raises(errors.InvalidAnswer) as caught:
        answers_save(attempt=attempt, answers=[good, make_bad(a, other)])
    assert caught.value.code == "invalid_answer"
    assert not Answer.objects.exists()


def test_the_same_question_twice_in_one_save_is_refused(participant, quiz):
    attempt = start(participant, quiz)
    q = attempt.question_order[0]
    with pytest.raises(errors.InvalidAnswer):
        answers_save(attempt=attempt, answers=[{"question": q, "choices": []}, {"question": q, "choices": []}])
    assert not Answer.objects.exists()


def test_a_multiple_question_takes_several_choices(participant, quiz):
    attempt = start(participant, quiz)
    multiple = attempt.question_order[1]
    choices = attempt.choice_order[str(multiple)][:3]
    answers_save(attempt=attempt, answers=[{"question": multiple, "choices": choices}])
    assert saved(attempt) == {multiple: choices}


def test_saving_within_the_grace_period_is_accepted(participant, quiz, settings):
    settings.ASSESSMENTS_GRACE_SECONDS = 30
    attempt = move_deadline(start(participant, quiz), seconds_from_now=-20)
    answers_save(attempt=attempt, answers=right_answers(quiz)[:1])
    assert len(saved(attempt)) == 1


def test_saving_after_the_deadline_is_refused_and_the_attempt_graded_as_it_stood(participant, quiz, settings):
    settings.ASSESSMENTS_GRACE_SECONDS = 30
    attempt = start(participant, quiz)
    answers_save(attempt=attempt, answers=right_answers(quiz)[:2])
    move_deadline(attempt, seconds_from_now=-31)
    with pytest.raises(errors.AttemptExpired) as caught:
        answers_save(attempt=attempt, answers=right_answers(quiz))
    assert caught.value.code == "expired"
    assert len(saved(attempt)) == 2
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED
    assert (attempt.score_percent, attempt.correct_count, attempt.submitted_at) == (33, 2, None)


def test_the_grace_setting_is_read_at_call_time(participant, quiz, settings):
    attempt = move_deadline(start(participant, quiz), seconds_from_now=-100)
    settings.ASSESSMENTS_GRACE_SECONDS = 120
    answers_save(attempt=attempt, answers=right_answers(quiz)[:1])
    settings.ASSESSMENTS_GRACE_SECONDS = 60
    with pytest.raises(errors.AttemptExpired):
        answers_save(attempt=attempt, answers=right_answers(quiz)[:1])


def test_saving_after_submitting_is_refused(participant, quiz):
    attempt = start(participant, quiz)
    attempt_submit(attempt=attempt)
    with pytest.raises(errors.AlreadySubmitted):
        answers_save(attempt=attempt, answers=right_answers(quiz))
    assert not Answer.objects.exists()


# --- Submitting and grading -----------------------------------------------------------------------


def test_submit_saves_the_answers_grades_and_closes(participant, enrollment, quiz):
    attempt = start(participant, quiz)
    graded = attempt_submit(attempt=attempt, answers=right_answers(quiz, wrong=1))
    assert graded.status == AttemptStatus.SUBMITTED
    assert (graded.score_percent, graded.passed, graded.correct_count, graded.question_count) == (83, True, 5, 6)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.submitted_at == attempt.graded_at is not None
    assert (attempt.score_percent, attempt.passed) == (83, True)
    key = answer_key(quiz)
    first = min(key)
    assert attempt.results == {str(qid): qid != first for qid in key}
    assert len(saved(attempt)) == 6


def test_submit_grades_the_saved_answers_with_the_ones_given(participant, quiz):
    attempt = start(participant, quiz)
    answers = right_answers(quiz)
    answers_save(attempt=attempt, answers=answers[:3])
    graded = attempt_submit(attempt=attempt, answers=answers[3:5])
    assert (graded.correct_count, graded.score_percent, graded.passed) == (5, 83, True)


def test_a_second_submit_is_refused_and_changes_nothing(participant, quiz):
    attempt = start(participant, quiz)
    attempt_submit(attempt=attempt, answers=right_answers(quiz, wrong=6))
    with pytest.raises(errors.AlreadySubmitted) as caught:
        attempt_submit(attempt=attempt, answers=right_answers(quiz))
    assert caught.value.code == "already_submitted"
    attempt.refresh_from_db()
    assert attempt.score_percent == 0
    assert all(ids == [wrong_choice(qid)] for qid, ids in saved(attempt).items())


def test_an_invalid_submit_writes_nothing_and_leaves_the_attempt_open(participant, quiz):
    attempt = start(participant, quiz)
    bad = [*right_answers(quiz)[:2], {"question": attempt.question_order[0], "choices": [999999]}]
    with pytest.raises(errors.InvalidAnswer):
        attempt_submit(attempt=attempt, answers=bad)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS and attempt.score_percent is None
    assert not Answer.objects.exists()
    assert not ModuleProgress.objects.exists()


def test_a_late_submit_is_refused_and_graded_on_the_answers_saved_in_time(participant, enrollment, quiz, settings):
    settings.ASSESSMENTS_GRACE_SECONDS = 30
    attempt = start(participant, quiz)
    answers_save(attempt=attempt, answers=right_answers(quiz)[:4])
    move_deadline(attempt, seconds_from_now=-31)
    with pytest.raises(errors.AttemptExpired):
        attempt_submit(attempt=attempt, answers=right_answers(quiz))
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED
    assert (attempt.correct_count, attempt.score_percent, attempt.passed) == (4, 67, False)
    assert attempt.submitted_at is None and attempt.graded_at is not None
    assert len(saved(attempt)) == 4  # the late answers were not saved
    assert ModuleProgress.objects.get(enrollment=enrollment, module=quiz.module).best_score == 67
    with pytest.raises(errors.AttemptExpired):
        attempt_submit(attempt=attempt)


def test_a_submit_within_the_grace_period_counts(participant, quiz, settings):
    settings.ASSESSMENTS_GRACE_SECONDS = 30
    attempt = move_deadline(start(participant, quiz), seconds_from_now=-29)
    assert attempt_submit(attempt=attempt, answers=right_answers(quiz)).status == AttemptStatus.SUBMITTED


@pytest.mark.parametrize(
    ("correct", "total", "expected"),
    [(0, 6, 0), (6, 6, 100), (1, 8, 13), (7, 8, 88), (1, 3, 33), (2, 3, 67), (1, 200, 1), (1, 201, 0), (0, 0, 0)],
)
def test_score_is_whole_percent_rounded_half_up(correct, total, expected):
    assert score_percent(correct=correct, total=total) == expected


def kind_quiz(kind, participant):
    quiz = build_quiz(questions=1, kinds=(kind,))
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    question = quiz.questions.get()
    correct = list(question.choices.filter(is_correct=True).order_by("pk").values_list("pk", flat=True))
    wrong = list(question.choices.filter(is_correct=False).order_by("pk").values_list("pk", flat=True))
    return quiz, question.pk, correct, wrong


def graded(participant, quiz, question_id, choices) -> int:
    attempt = start(participant, quiz)
    return attempt_submit(attempt=attempt, answers=[{"question": question_id, "choices": choices}]).score_percent


@pytest.mark.parametrize("kind", [QuestionKind.SINGLE, QuestionKind.TRUE_FALSE])
def test_grading_single_and_true_false(participant, kind):
    quiz, qid, correct, wrong = kind_quiz(kind, participant)
    assert graded(participant, quiz, qid, correct) == 100
    assert graded(participant, quiz, qid, wrong[:1]) == 0
    assert graded(participant, quiz, qid, []) == 0


def test_grading_multiple_needs_exactly_the_correct_set(participant):
    quiz, qid, correct, wrong = kind_quiz(QuestionKind.MULTIPLE, participant)
    quiz.max_attempts = 10
    quiz.save()
    assert len(correct) == 2 and len(wrong) == 2
    assert graded(participant, quiz, qid, list(reversed(correct))) == 100
    assert graded(participant, quiz, qid, correct[:1]) == 0  # a subset
    assert graded(participant, quiz, qid, correct + wrong[:1]) == 0  # a superset
    assert graded(participant, quiz, qid, wrong) == 0
    assert graded(participant, quiz, qid, []) == 0


def test_unanswered_questions_are_wrong(participant, quiz):
    assert attempt_submit(attempt=start(participant, quiz)).score_percent == 0


def test_passing_exactly_at_the_pass_mark(participant):
    quiz = build_quiz(questions=4, pass_mark=75)
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    assert attempt_submit(attempt=start(participant, quiz), answers=right_answers(quiz, wrong=1)).passed is True
    assert attempt_submit(attempt=start(participant, quiz), answers=right_answers(quiz, wrong=2)).passed is False


def test_every_graded_attempt_is_reported_to_courses_keeping_the_best(participant, enrollment, quiz):
    attempt_submit(attempt=start(participant, quiz), answers=right_answers(quiz, wrong=4))
    progress = ModuleProgress.objects.get(enrollment=enrollment, module=quiz.module)
    assert (progress.best_score, progress.quiz_passed_at) == (33, None)
    attempt_submit(attempt=start(participant, quiz), answers=right_answers(quiz, wrong=1))
    progress.refresh_from_db()
    assert progress.best_score == 83 and progress.quiz_passed_at is not None
    attempt_submit(attempt=start(participant, quiz), answers=right_answers(quiz, wrong=3))
    progress.refresh_from_db()
    assert progress.best_score == 83


def test_passing_unlocks_the_next_module(participant, enrollment, quiz):
    following = ModuleFactory(course=quiz.module.course, order=quiz.module.order + 1)
    assert module_access(user=participant, module=following).state == ModuleState.LOCKED
    attempt_submit(attempt=start(participant, quiz), answers=right_answers(quiz))
    assert module_access(user=participant, module=following).state == ModuleState.AVAILABLE
    assert module_access(user=participant, module=quiz.module).state == ModuleState.COMPLETED


# --- Shuffling --------------------------------------------------------------------------------------


def test_shuffled_order_is_drawn_once_and_stays_for_the_attempt(participant):
    quiz = build_quiz(questions=12, kinds=(QuestionKind.MULTIPLE,), shuffle_questions=True, shuffle_choices=True)
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    attempt = start(participant, quiz)
    natural = list(quiz.questions.order_by("order").values_list("pk", flat=True))
    assert sorted(attempt.question_order) == sorted(natural)
    # 12! orders and (4!)^12 choice orders: drawing the natural one by chance is practically impossible.
    assert attempt.question_order != natural
    assert any(ids != sorted(ids) for ids in attempt.choice_order.values())

    shown = attempt_detail(attempt=attempt)
    assert [q["id"] for q in shown["questions"]] == attempt.question_order
    for question in shown["questions"]:
        assert [c["id"] for c in question["choices"]] == attempt.choice_order[str(question["id"])]
    # Resuming (start again) and reading again show the very same order.
    assert attempt_start(user=participant, quiz=quiz).attempt.question_order == attempt.question_order
    assert attempt_detail(attempt=Attempt.objects.get(pk=attempt.pk))["questions"] == shown["questions"]


def test_shuffling_uses_a_cryptographic_generator(participant):
    quiz = build_quiz(questions=3, shuffle_questions=True, shuffle_choices=True)
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    with mock.patch("assessments.services.random.SystemRandom", wraps=__import__("random").SystemRandom) as rng:
        start(participant, quiz)
    rng.assert_called_once_with()


def test_without_shuffling_the_authored_order_is_kept(participant, quiz):
    attempt = start(participant, quiz)
    questions = list(quiz.questions.order_by("order"))
    assert attempt.question_order == [q.pk for q in questions]
    for q in questions:
        assert attempt.choice_order[str(q.pk)] == list(q.choices.order_by("order").values_list("pk", flat=True))


# --- Expiry sweep ---------------------------------------------------------------------------------


def test_the_sweep_closes_timed_out_attempts_grading_what_was_saved(participant, quiz, other_participant):
    overdue = start(participant, quiz)
    answers_save(attempt=overdue, answers=right_answers(quiz)[:3])
    move_deadline(overdue, seconds_from_now=-3600)
    running = start(other_participant, quiz)
    untimed_quiz = build_quiz(questions=1, time_limit_minutes=None)
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=untimed_quiz.module.course)
    untimed = start(participant, untimed_quiz)

    assert attempts_expire_due() == 1
    overdue.refresh_from_db()
    assert overdue.status == AttemptStatus.EXPIRED and overdue.score_percent == 50
    assert Attempt.objects.get(pk=running.pk).status == AttemptStatus.IN_PROGRESS
    assert Attempt.objects.get(pk=untimed.pk).status == AttemptStatus.IN_PROGRESS
    assert attempts_expire_due() == 0  # idempotent


def test_expiring_leaves_submitted_and_running_attempts_alone(participant, quiz):
    attempt = start(participant, quiz)
    assert attempt_expire(attempt=attempt) is False
    attempt_submit(attempt=attempt, answers=right_answers(quiz))
    move_deadline(attempt, seconds_from_now=-3600)
    assert attempt_expire(attempt=attempt) is False
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score_percent) == (AttemptStatus.SUBMITTED, 100)


def test_the_beat_task_closes_expired_attempts(participant, quiz, settings):
    from assessments.tasks import attempts_expire_task

    attempt = move_deadline(start(participant, quiz), seconds_from_now=-3600)
    assert attempts_expire_task.delay().get() == 1
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.EXPIRED
    entry = settings.CELERY_BEAT_SCHEDULE["assessments-expire-attempts"]
    assert entry == {"task": "assessments.tasks.attempts_expire_task", "schedule": 60.0}
    assert attempts_expire_task.name == entry["task"]


def test_the_grace_period_defaults_to_thirty_seconds(settings):
    from assessments.conf import assessments_setting

    if hasattr(settings, "ASSESSMENTS_GRACE_SECONDS"):
        del settings.ASSESSMENTS_GRACE_SECONDS
    assert assessments_setting("GRACE_SECONDS") == 30


def test_one_failing_attempt_does_not_stop_the_sweep(participant, quiz, other_participant, caplog):
    from assessments import services

    first = move_deadline(start(participant, quiz), seconds_from_now=-7200)
    second = move_deadline(start(other_participant, quiz), seconds_from_now=-3600)
    real = services.attempt_expire

    def flaky(*, attempt, now=None):
        if attempt.pk == first.pk:
            raise RuntimeError("boom")
        return real(attempt=attempt, now=now)

    with mock.patch.object(services, "attempt_expire", flaky):
        assert attempts_expire_due() == 1
    assert Attempt.objects.get(pk=first.pk).status == AttemptStatus.IN_PROGRESS
    assert Attempt.objects.get(pk=second.pk).status == AttemptStatus.EXPIRED
    assert f"Could not close expired attempt {first.pk}" in caplog.text
    assert attempts_expire_due() == 1  # the next run picks it up
