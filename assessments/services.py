"""Every write the assessments app does: quiz content, attempts and their grading, allowances."""

import datetime
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.content_cache import content_cached, content_forget
from courses.curriculum import (
    CurriculumError,
    CurriculumReport,
    read_yaml,
    require,
    require_one_of,
    sync_replace,
    sync_row,
)
from courses.models import Enrollment, Lesson, Module
from courses.selectors import module_access
from courses.services import audit_record, module_help_clear, module_help_request, quiz_result_record

from .errors import (
    AllowanceInvalid,
    AlreadySubmitted,
    AttemptExpired,
    InvalidAnswer,
    ModuleLocked,
    NoAttemptsLeft,
    NotEnrolled,
)
from .models import (
    Answer,
    Attempt,
    AttemptAllowance,
    AttemptStatus,
    Choice,
    Question,
    QuestionKind,
    Quiz,
    ReviewPolicy,
)
from .selectors import attempt_is_past_deadline, attempts_allowed, attempts_due_for_expiry, quiz_standing

logger = logging.getLogger(__name__)

QUIZ_FIELDS = (
    "pass_mark",
    "max_attempts",
    "time_limit_minutes",
    "shuffle_questions",
    "shuffle_choices",
    "allow_review",
    "review",
)


def _check_choices(kind: str, choices: list[dict[str, Any]], where: str) -> None:
    correct = sum(1 for choice in choices if choice["is_correct"])
    if kind == QuestionKind.TRUE_FALSE and (len(choices) != 2 or correct != 1):
        raise CurriculumError(f"{where}: a true_false question needs exactly two choices, one correct")
    if kind == QuestionKind.SINGLE and (len(choices) < 2 or correct != 1):
        raise CurriculumError(f"{where}: a single question needs at least two choices and exactly one correct")
    if kind == QuestionKind.MULTIPLE and (len(choices) < 2 or correct < 1):
        raise CurriculumError(f"{where}: a multiple question needs at least two choices and one or more correct")


def _parse_quiz(path: Path) -> tuple[dict[str, Any], list[tuple[dict[str, Any], list[dict[str, Any]]]]]:
    data = read_yaml(path)
    quiz = {"title": require(data, "title", path)}
    defaults = {"pass_mark": 70, "max_attempts": 3, "time_limit_minutes": None, "review": ReviewPolicy.AFTER_FINAL}
    for name in QUIZ_FIELDS:
        quiz[name] = data.get(name, defaults.get(name, False))
    if not (isinstance(quiz["pass_mark"], int) and 0 <= quiz["pass_mark"] <= 100):
        raise CurriculumError(f"{path}: pass_mark must be a whole number from 0 to 100")
    if not (isinstance(quiz["max_attempts"], int) and quiz["max_attempts"] >= 1):
        raise CurriculumError(f"{path}: max_attempts must be a whole number of at least 1")
    limit = quiz["time_limit_minutes"]
    if limit is not None and not (isinstance(limit, int) and limit >= 1):
        raise CurriculumError(f"{path}: time_limit_minutes must be empty or a whole number of at least 1")
    require_one_of(quiz["review"], "review", ReviewPolicy, path)

    questions = []
    for order, item in enumerate(require(data, "questions", path, list), start=1):
        where = f"{path} question {order}"
        if not isinstance(item, dict):
            raise CurriculumError(f"{where}: expected a mapping")
        question = {
            "key": require(item, "key", path),
            "order": order,
            "kind": require_one_of(require(item, "kind", path), "kind", QuestionKind, where),
            "text": require(item, "text", path),
            "explanation": require(item, "explanation", path),
            # A lesson key for now; quiz_sync resolves it against the module's lessons.
            "lesson": item.get("lesson"),
        }
        choices = [
            {
                "key": str(require(choice, "key", path)),
                "order": choice_order,
                "text": str(require(choice, "text", path)),
                "is_correct": bool(choice.get("correct", False)),
            }
            for choice_order, choice in enumerate(require(item, "choices", path, list), start=1)
        ]
        if len({c["key"] for c in choices}) != len(choices):
            raise CurriculumError(f"{where}: choice keys must be unique")
        _check_choices(question["kind"], choices, where)
        questions.append((question, choices))
    if len({q["key"] for q, _ in questions}) != len(questions):
        raise CurriculumError(f"{path}: question keys must be unique")
    quiz["draw_count"], quiz["draw_mix"] = _parse_draw(data, questions, path)
    return quiz, questions


def _parse_draw(data: dict[str, Any], questions: list, path: Path) -> tuple[int | None, dict[str, int]]:
    """``draw`` (questions per attempt) and ``draw_mix`` (how many of each kind), checked against the bank."""
    draw, mix = data.get("draw"), data.get("draw_mix")
    if draw is None:
        if mix:
            raise CurriculumError(f"{path}: draw_mix needs draw (the number of questions per attempt)")
        return None, {}
    if isinstance(draw, bool) or not isinstance(draw, int) or not 1 <= draw <= len(questions):
        raise CurriculumError(
            f"{path}: draw must be a whole number from 1 to the number of questions in the bank ({len(questions)})"
        )
    if mix is None:
        return draw, {}
    if not isinstance(mix, dict) or not all(
        kind in QuestionKind.values and isinstance(n, int) and not isinstance(n, bool) and n >= 0
        for kind, n in mix.items()
    ):
        raise CurriculumError(
            f"{path}: draw_mix maps kinds ({', '.join(QuestionKind.values)}) to whole numbers of at least 0"
        )
    if sum(mix.values()) != draw:
        raise CurriculumError(f"{path}: draw_mix adds up to {sum(mix.values())}, but draw is {draw}")
    available = {kind: sum(1 for q, _ in questions if q["kind"] == kind) for kind in QuestionKind.values}
    for kind, wanted in mix.items():
        if wanted > available[kind]:
            raise CurriculumError(
                f"{path}: draw_mix asks for {wanted} {kind} question(s), but the bank has {available[kind]}"
            )
    return draw, {kind: n for kind, n in mix.items() if n}


def _resolve_lessons(*, module: Module, path: Path, questions: list[dict[str, Any]]) -> None:
    """Replace each question's ``lesson`` key by ``lesson_id``: a lesson of ``module``, or None (one query)."""
    lessons = dict(Lesson.objects.filter(module=module).order_by("order", "id").values_list("key", "pk"))
    for question in questions:
        key = question.pop("lesson")
        if key is None:
            question["lesson_id"] = None
        elif isinstance(key, str) and key in lessons:
            question["lesson_id"] = lessons[key]
        else:
            raise CurriculumError(
                f"{path} question {question['order']} ('{question['key']}'): lesson '{key}' is not a lesson of "
                f"module '{module.key}' (its lessons: {', '.join(lessons) or 'none'})"
            )


@transaction.atomic
def quiz_sync(*, module: Module, path: Path, report: CurriculumReport) -> Quiz | None:
    """Create or update ``module``'s quiz from ``path`` (quiz.yaml), matching by stable keys.

    Side effects: writes the quiz, its questions and choices; deletes questions and choices
    that are no longer in the file. Idempotent: unchanged files write nothing. A module
    folder without quiz.yaml leaves any existing quiz as it is. A question's optional
    ``lesson`` names a lesson of the same module (loaded before this runs). Raises
    ``CurriculumError``.
    """
    if not path.exists():
        return None
    quiz_values, questions = _parse_quiz(path)
    _resolve_lessons(module=module, path=path, questions=[question for question, _ in questions])
    quiz = sync_row(
        kind="quiz",
        instance=Quiz.objects.filter(module=module).first(),
        values=quiz_values,
        create=lambda **values: Quiz.objects.create(module=module, **values),
        report=report,
    )

    wanted = [question for question, _ in questions]
    saved = sync_replace(kind="question", related=quiz.questions, wanted=wanted, report=report)
    for question_values, choices in questions:
        sync_replace(kind="choice", related=saved[question_values["key"]].choices, wanted=choices, report=report)
    return quiz


# --- Attempts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptStarted:
    attempt: Attempt
    created: bool


def _draw_questions(quiz: Quiz, bank: list[tuple[int, str]], seen: set[int], rng: random.Random) -> list[int]:
    """The questions of one attempt: the whole bank, or ``draw_count`` of it in the ``draw_mix`` of kinds.

    Questions the participant was not given in earlier attempts come first, so a second attempt is
    not the first one again; the rest of each kind fills up in random order."""
    if not quiz.draw_count or quiz.draw_count >= len(bank):
        return [qid for qid, _ in bank]

    def pick(candidates: list[int], count: int) -> list[int]:
        fresh = [qid for qid in candidates if qid not in seen]
        again = [qid for qid in candidates if qid in seen]
        rng.shuffle(fresh)
        rng.shuffle(again)
        return (fresh + again)[:count]

    if quiz.draw_mix:
        chosen = set()
        for kind, count in quiz.draw_mix.items():
            chosen.update(pick([qid for qid, k in bank if k == kind], count))
        # A bank edited after loading may have fewer of a kind now: make up the number from the rest.
        missing = quiz.draw_count - len(chosen)
        if missing > 0:
            chosen.update(pick([qid for qid, _ in bank if qid not in chosen], missing))
    else:
        chosen = set(pick([qid for qid, _ in bank], quiz.draw_count))
    return [qid for qid, _ in bank if qid in chosen]  # bank order; shuffled below when the quiz says so


def _draw_order(quiz: Quiz, *, seen: set[int] = frozenset()) -> tuple[list[int], dict[str, list[int]]]:
    """The attempt's questions (drawn from the bank), their order and each one's choice order,
    shuffled when the quiz says so. ``seen``: question ids of the participant's earlier attempts."""
    # A CSPRNG: the draw and the order must not be predictable from earlier attempts.
    rng = random.SystemRandom()
    bank = list(Question.objects.filter(quiz=quiz).order_by("order", "id").values_list("pk", "kind"))
    question_ids = _draw_questions(quiz, bank, seen, rng)
    drawn = set(question_ids)
    choice_order: dict[str, list[int]] = {str(qid): [] for qid in question_ids}
    for question_id, choice_id in (
        Choice.objects.filter(question__quiz=quiz, question_id__in=drawn)
        .order_by("order", "id")
        .values_list("question_id", "pk")
    ):
        choice_order[str(question_id)].append(choice_id)
    if quiz.shuffle_questions:
        rng.shuffle(question_ids)
    if quiz.shuffle_choices:
        for ids in choice_order.values():
            rng.shuffle(ids)
    return question_ids, choice_order


def attempt_start(*, user, quiz: Quiz) -> AttemptStarted:
    """Start an attempt at ``quiz`` for ``user``, or hand back the one they already have open.

    Side effects: may create an Attempt (with its question and choice order drawn now and stored);
    an open attempt whose time ran out is first closed and graded (see ``attempt_expire``).
    Idempotent while an attempt is open: starting again returns it (``created`` False) and uses no
    attempt. Safe to race: the database allows one open attempt and one attempt per number.
    Raises NotEnrolled, ModuleLocked (the quiz's module is still locked) or NoAttemptsLeft.
    """
    access = module_access(user=user, module=quiz.module)
    if access.enrollment is None:
        raise NotEnrolled()
    if not access.allowed:
        raise ModuleLocked()
    enrollment = access.enrollment
    now = timezone.now()
    open_attempt = Attempt.objects.filter(enrollment=enrollment, quiz=quiz, status=AttemptStatus.IN_PROGRESS).first()
    if open_attempt is not None:
        if not attempt_is_past_deadline(open_attempt, now):
            return AttemptStarted(attempt=open_attempt, created=False)
        attempt_expire(attempt=open_attempt, now=now)

    # One query for both: how many attempts were used, and which questions they were given.
    earlier = list(Attempt.objects.filter(enrollment=enrollment, quiz=quiz).values_list("question_order", flat=True))
    used = len(earlier)
    if used >= attempts_allowed(enrollment_id=enrollment.pk, quiz=quiz):
        raise NoAttemptsLeft()
    question_order, choice_order = _draw_order(quiz, seen={qid for order in earlier for qid in order})
    expires_at = now + datetime.timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                enrollment=enrollment,
                quiz=quiz,
                number=used + 1,
                started_at=now,
                expires_at=expires_at,
                question_order=question_order,
                choice_order=choice_order,
            )
    except IntegrityError:
        # A concurrent start won the race (same number, or an attempt already open): use its attempt.
        existing = Attempt.objects.filter(enrollment=enrollment, quiz=quiz, status=AttemptStatus.IN_PROGRESS).first()
        if existing is None:
            raise
        return AttemptStarted(attempt=existing, created=False)
    return AttemptStarted(attempt=attempt, created=True)


def _as_int(value: Any) -> int:
    # bool is an int subclass; a JSON true is not a choice id.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAnswer(_("Question and choice ids must be whole numbers."))
    return value


def _answers_write(
    *, attempt: Attempt, answers: Sequence[Mapping[str, Any]], kinds: dict[int, str], now: datetime.datetime
) -> dict[int, set[int]]:
    """Validate every answer against the attempt, then upsert them in one statement; nothing if any is bad.

    Returns the answers written (question id → choice ids)."""
    rows: list[Answer] = []
    seen: set[int] = set()
    for item in answers:
        question_id = _as_int(item.get("question"))
        choice_ids = [_as_int(c) for c in item.get("choices") or []]
        if question_id in seen:
            raise InvalidAnswer(_("Question %(id)s is answered more than once.") % {"id": question_id})
        seen.add(question_id)
        offered = attempt.choice_order.get(str(question_id))
        if offered is None or question_id not in kinds:
            raise InvalidAnswer(_("Question %(id)s is not part of this attempt.") % {"id": question_id})
        if len(set(choice_ids)) != len(choice_ids):
            raise InvalidAnswer(_("A choice is given twice for question %(id)s.") % {"id": question_id})
        if not set(choice_ids) <= set(offered):
            raise InvalidAnswer(_("A chosen answer does not belong to question %(id)s.") % {"id": question_id})
        if kinds[question_id] != QuestionKind.MULTIPLE and len(choice_ids) > 1:
            raise InvalidAnswer(_("Question %(id)s takes only one answer.") % {"id": question_id})
        rows.append(Answer(attempt=attempt, question_id=question_id, choice_ids=choice_ids, saved_at=now))
    if rows:
        Answer.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["attempt", "question"],
            update_fields=["choice_ids", "saved_at"],
        )
    return {row.question_id: set(row.choice_ids) for row in rows}


@dataclass(frozen=True)
class _AnswerKey:
    kinds: dict[int, str]
    correct: dict[int, set[int]]


def _answer_key_key(quiz_id: int) -> str:
    return f"quiz:{quiz_id}:answer_key"


def _answer_key_read(quiz_id: int) -> _AnswerKey:
    kinds: dict[int, str] = {}
    correct: dict[int, set[int]] = {}
    rows = (
        Question.objects.filter(quiz_id=quiz_id)
        .order_by()
        .values_list("pk", "kind", "choices__pk", "choices__is_correct")
    )
    for question_id, kind, choice_id, is_correct in rows:
        kinds[question_id] = kind
        bucket = correct.setdefault(question_id, set())
        if is_correct:
            bucket.add(choice_id)
    return _AnswerKey(kinds=kinds, correct=correct)


def _answer_key(attempt: Attempt) -> _AnswerKey:
    """Kinds and correct choice ids of the questions now in the attempt's quiz.

    From the content cache (one query when not cached); forgotten whenever the quiz, a question or
    a choice is saved or deleted (see ``answer_key_forget``)."""
    return content_cached(_answer_key_key(attempt.quiz_id), lambda: _answer_key_read(attempt.quiz_id))


def answer_key_forget(*, quiz_id: int) -> None:
    """Forget the cached answer key of the quiz (the quiz, its questions or choices changed)."""
    content_forget([_answer_key_key(quiz_id)])


def _lock_open(attempt: Attempt, *, owner=None) -> Attempt | None:
    """Lock the attempt row for this transaction and read it (one query); raise unless it is still open.

    With ``owner``, only an attempt of that user's: None otherwise (nothing locked)."""
    # of=self: lock only the attempt, not the quiz and module rows every participant shares. The attempt
    # comes before the enrollment quiz_result_record locks (the order in courses.locks).
    rows = Attempt.objects.select_for_update(of=("self",)).select_related("quiz__module").filter(pk=attempt.pk)
    if owner is not None:
        rows = rows.filter(enrollment__participant__user=owner)
    locked = rows.first() if owner is not None else rows.get()
    if locked is None:
        return None
    if locked.status == AttemptStatus.SUBMITTED:
        raise AlreadySubmitted()
    if locked.status == AttemptStatus.EXPIRED:
        raise AttemptExpired()
    return locked


def score_percent(*, correct: int, total: int) -> int:
    """Whole percent, rounded half up with integer arithmetic (7 of 8 → 88); 0 for a quiz with no questions."""
    if total <= 0:
        return 0
    return (200 * correct + total) // (2 * total)


def _is_right(kind: str, chosen: set[int], correct: set[int]) -> bool:
    if kind == QuestionKind.MULTIPLE:
        # All correct choices and nothing else.
        return bool(chosen) and chosen == correct
    # Single and true/false: the one chosen choice is a correct one.
    return len(chosen) == 1 and chosen <= correct


def _grade(
    *,
    attempt: Attempt,
    key: _AnswerKey,
    status: str,
    now: datetime.datetime,
    given: Mapping[int, set[int]] | None = None,
) -> Attempt:
    """Grade the locked, open ``attempt`` on its saved answers, close it and report to courses.

    A fixed number of queries whatever the quiz size: the saved answers (not read when ``given``,
    the answers just written, covers every question), one conditional update, then courses'
    ``quiz_result_record``; a fail that used the last attempt also asks courses to flag the module
    as needing the operator (``module_help_request``: the operator is emailed once).
    """
    # Questions removed from the quiz since the start no longer count.
    question_ids = [qid for qid in attempt.question_order if qid in key.kinds]
    if given is not None and all(qid in given for qid in question_ids):
        saved = given
    else:
        saved = {
            qid: set(ids)
            for qid, ids in Answer.objects.filter(attempt=attempt).values_list("question_id", "choice_ids")
        }
    results = {
        str(qid): _is_right(key.kinds[qid], saved.get(qid, set()), key.correct.get(qid, set())) for qid in question_ids
    }
    correct = sum(results.values())
    score = score_percent(correct=correct, total=len(question_ids))
    passed = score >= attempt.quiz.pass_mark
    values = {
        "status": status,
        "graded_at": now,
        "submitted_at": now if status == AttemptStatus.SUBMITTED else None,
        "score_percent": score,
        "passed": passed,
        "correct_count": correct,
        "question_count": len(question_ids),
        "results": results,
    }
    # Conditional on still being open: of two racing closes exactly one grades.
    if not Attempt.objects.filter(pk=attempt.pk, status=AttemptStatus.IN_PROGRESS).update(**values):
        raise AlreadySubmitted()
    for name, value in values.items():
        setattr(attempt, name, value)
    enrollment = Enrollment(pk=attempt.enrollment_id)
    quiz_result_record(enrollment=enrollment, module=attempt.quiz.module, score_percent=score, passed=passed)
    if not passed:
        help_request_if_out_of_attempts(enrollment_id=attempt.enrollment_id, quiz=attempt.quiz)
    return attempt


def help_request_if_out_of_attempts(*, enrollment_id: int, quiz: Quiz) -> bool:
    """Flag the quiz's module as needing the operator when the enrolment has used every attempt without
    a pass (courses' ``module_help_request``: the operator is emailed once); True if newly flagged.

    Idempotent. Called after each failed grading, and by the pages when they find a participant out of
    attempts whose module is not flagged yet (attempts used up before the flag existed)."""
    standing = quiz_standing(enrollment_id=enrollment_id, quiz=quiz)
    if standing.attempts_left or standing.attempt_open or standing.passed:
        return False
    return module_help_request(enrollment_id=enrollment_id, module_id=quiz.module_id)


def answers_save(*, attempt: Attempt, answers: Sequence[Mapping[str, Any]]) -> int:
    """Save (replace) the answers to the questions given; others keep what was saved. Returns how many.

    ``answers`` is ``[{"question": id, "choices": [ids]}]``; an empty ``choices`` clears a question.
    Side effects: upserts Answer rows. All or nothing: any invalid answer raises InvalidAnswer and
    writes nothing. Idempotent. Raises AlreadySubmitted, or AttemptExpired once the deadline has
    passed — the attempt is then closed and graded on the answers saved in time.
    """
    now = timezone.now()
    with transaction.atomic():
        # The row lock orders saves and submits: a save either lands before the grading or is refused.
        locked = _lock_open(attempt)
        expired = attempt_is_past_deadline(locked, now)
        if expired:
            _grade(attempt=locked, key=_answer_key(locked), status=AttemptStatus.EXPIRED, now=now)
        else:
            saved = len(_answers_write(attempt=locked, answers=answers, kinds=_answer_key(locked).kinds, now=now))
    if expired:
        # Raised after the commit so that the grading stays.
        raise AttemptExpired()
    return saved


def attempt_submit(*, attempt: Attempt, answers: Sequence[Mapping[str, Any]] = (), owner=None) -> Attempt | None:
    """Save the given answers (as ``answers_save``), then grade and close the attempt.

    Side effects: upserts answers, writes the grade on the attempt, and reports it to courses
    (``quiz_result_record``: best score kept, a pass may unlock the next module). A fixed number of
    queries whatever the quiz size: the attempt is read once, locked; the answer key comes from the
    content cache. Exactly once: a second or concurrent submit raises AlreadySubmitted. Past the
    deadline the answers given now are ignored, the attempt is graded on what was saved in time, and
    AttemptExpired is raised. Invalid answers raise InvalidAnswer and nothing is written. With
    ``owner`` (a user), an attempt that is not theirs is left alone and None is returned.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_open(attempt, owner=owner)
        if locked is None:
            return None
        key = _answer_key(locked)
        expired = attempt_is_past_deadline(locked, now)
        if expired:
            _grade(attempt=locked, key=key, status=AttemptStatus.EXPIRED, now=now)
        else:
            given = _answers_write(attempt=locked, answers=answers, kinds=key.kinds, now=now)
            _grade(attempt=locked, key=key, status=AttemptStatus.SUBMITTED, now=now, given=given)
    if expired:
        raise AttemptExpired()
    return locked


def attempt_expire(*, attempt: Attempt, now: datetime.datetime | None = None) -> bool:
    """Close and grade ``attempt`` on its saved answers if its deadline has passed; True if it did.

    Side effects: as grading in ``attempt_submit`` (status ``expired``). Idempotent: an attempt that
    is closed already, or still within its time, is left alone.
    """
    now = now or timezone.now()
    with transaction.atomic():
        try:
            locked = _lock_open(attempt)
        except (AlreadySubmitted, AttemptExpired):
            return False
        if not attempt_is_past_deadline(locked, now):
            return False
        _grade(attempt=locked, key=_answer_key(locked), status=AttemptStatus.EXPIRED, now=now)
    return True


def attempts_expire_due(*, now: datetime.datetime | None = None) -> int:
    """Close every open attempt whose deadline passed without a submit; returns how many it closed.

    Each attempt is graded in its own transaction, so one failure (logged, retried by the next run)
    does not stop or undo the others, and a concurrent submit simply wins. Idempotent.
    """
    now = now or timezone.now()
    closed = 0
    for attempt_id in attempts_due_for_expiry(now=now):
        try:
            closed += attempt_expire(attempt=Attempt(pk=attempt_id), now=now)
        except Exception:  # noqa: BLE001 - one broken attempt must not block the sweep of the rest
            logger.exception("Could not close expired attempt %s", attempt_id)
    return closed


@transaction.atomic
def allowance_grant(
    *, enrollment: Enrollment, quiz: Quiz, extra: int = 1, granted_by=None, reason: str = ""
) -> AttemptAllowance:
    """Give ``enrollment`` ``extra`` more attempts at ``quiz``, on top of any granted before.

    Side effects: creates or increments the AttemptAllowance, lifts the module's "needs help" flag
    and records the grant in courses' audit log (who, how many, why). Not idempotent by design: each
    grant adds. Raises ValueError when ``extra`` is not positive.
    """
    if extra < 1:
        raise ValueError("extra must be at least 1")
    allowance, created = AttemptAllowance.objects.get_or_create(
        enrollment=enrollment, quiz=quiz, defaults={"extra": extra, "granted_by": granted_by, "reason": reason}
    )
    if not created:
        AttemptAllowance.objects.filter(pk=allowance.pk).update(
            extra=F("extra") + extra,
            granted_by=granted_by,
            reason=reason or allowance.reason,
            updated_at=timezone.now(),
        )
        allowance.refresh_from_db()
    # Another chance: the participant no longer waits for the operator.
    module_help_clear(enrollment_id=enrollment.pk, module_id=quiz.module_id)
    audit_record(
        actor=granted_by,
        action="grant",
        enrollment=enrollment,
        details={
            "quiz": quiz.pk,
            "quiz_title": quiz.title,
            "extra_attempts": extra,
            "total_extra": allowance.extra,
            "reason": reason,
        },
    )
    return allowance


# What one grant through the operators' pages and API may give.
GRANT_MAX_EXTRA = 5


def allowance_grant_checked(
    *, enrollment: Enrollment, quiz: Quiz, extra: int, granted_by, reason: str
) -> AttemptAllowance:
    """``allowance_grant`` for an operator's request: 1–``GRANT_MAX_EXTRA`` attempts at a quiz of the
    enrolment's course, with a reason, for a participant still in the cohort. Raises AllowanceInvalid
    (at its field) otherwise."""
    reason = " ".join((reason or "").split())
    if enrollment.removed_at is not None:
        raise AllowanceInvalid(_("This participant has been removed from the cohort."), field="non_field_errors")
    if quiz.module.course_id != enrollment.cohort.course_id:
        raise AllowanceInvalid(_("This quiz is not part of the participant's course."), field="quiz")
    if not 1 <= extra <= GRANT_MAX_EXTRA:
        raise AllowanceInvalid(
            _("Grant between 1 and %(n)d extra attempts.") % {"n": GRANT_MAX_EXTRA}, field="extra_attempts"
        )
    if not reason:
        raise AllowanceInvalid(_("Say why the extra attempts are granted."), field="reason")
    if len(reason) > 200:
        raise AllowanceInvalid(_("At most %(n)d characters.") % {"n": 200}, field="reason")
    return allowance_grant(enrollment=enrollment, quiz=quiz, extra=extra, granted_by=granted_by, reason=reason)
