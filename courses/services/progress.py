"""The progress engine: lesson completions, quiz results, module and course completion."""

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from ..content_cache import course_module_count, module_lesson_ids
from ..errors import ModuleLocked
from ..extensions import module_extras
from ..locks import enrollment_lock
from ..models import Cohort, Enrollment, Lesson, LessonCompletion, Module, ModuleProgress, ModuleState
from ..selectors import module_states
from ..signals import course_completed

# The package's name, as before the split: log configuration and alerts select on it.
logger = logging.getLogger("courses.services")


def _modules_complete_if_done(*, module: Module, ids: list[int]) -> int:
    """Complete ``module`` for those of the enrolments ``ids`` that now meet the rule; return how many.

    Goes through ``_module_complete_if_done``, so the course completes (and ``course_completed`` is
    sent) exactly as after a lesson or a quiz pass, at most once. A fixed number of queries picks
    the candidates; only those that do complete cost more.
    """
    if not ids:
        return 0
    has_quiz = _module_has_quiz(module)
    lessons_total = module.lessons.count()
    # Completions of the removed lessons went with them (cascade): what is left counts.
    lessons_done = dict(
        LessonCompletion.objects.filter(enrollment_id__in=ids, lesson__module=module)
        .values("enrollment_id")
        .annotate(n=Count("id"))
        .values_list("enrollment_id", "n")
    )
    candidates = ModuleProgress.objects.filter(module=module, enrollment_id__in=ids, completed_at__isnull=True)
    if has_quiz:
        candidates = candidates.filter(quiz_passed_at__isnull=False)
    completed = 0
    for progress in candidates.select_related("enrollment__cohort").order_by("enrollment_id"):
        if lessons_done.get(progress.enrollment_id, 0) < lessons_total:
            continue
        completed += _module_complete_if_done(
            enrollment=progress.enrollment, module=module, has_quiz=has_quiz, progress=progress
        )
    return completed


def _module_complete_if_done(
    *, enrollment: Enrollment, module: Module, has_quiz: bool, progress: ModuleProgress | None = None
) -> bool:
    """Record the module as completed once all its lessons are done and its quiz (if any) passed.

    True when this call recorded the completion."""
    if progress is None:
        progress, _ = ModuleProgress.objects.get_or_create(enrollment=enrollment, module=module)
    # Cheap checks first: most calls stop here (module already completed, or quiz not yet passed).
    if progress.completed_at or (has_quiz and progress.quiz_passed_at is None):
        return False
    lesson_ids = module_lesson_ids(module)
    done = set(
        LessonCompletion.objects.filter(enrollment=enrollment, lesson__module=module).values_list(
            "lesson_id", flat=True
        )
    )
    if not lesson_ids <= done:
        return False
    now = timezone.now()
    # Conditional update: of two racing requests exactly one records the completion.
    if not ModuleProgress.objects.filter(pk=progress.pk, completed_at__isnull=True).update(completed_at=now):
        return False
    _course_complete_if_done(enrollment=enrollment, now=now)
    return True


def _course_complete_if_done(*, enrollment: Enrollment, now) -> bool:
    """The one completion rule: every module completed AND, where the course requires one, the action
    plan submitted. Records the completion (and sends ``course_completed`` after commit) at whichever
    of the two comes last, once; True when this call recorded it. Callers hold the enrolment's lock."""
    course_modules = course_module_count(enrollment.cohort.course_id)
    completed = ModuleProgress.objects.filter(enrollment=enrollment, completed_at__isnull=False).count()
    if completed < course_modules:
        return False
    return _course_completed_record(enrollment=enrollment, now=now)


def _course_completed_send(*, enrollment_id: int) -> None:
    """Tell the other apps; runs after commit, so a failing receiver must not fail the request.

    The completion is already recorded and every receiver deserves its turn; a receiver whose
    work got lost is caught up by its own app's sweep (e.g. certificates), so logging is enough.
    """
    for receiver, result in course_completed.send_robust(sender=Enrollment, enrollment_id=enrollment_id):
        if isinstance(result, Exception):
            logger.error(
                "course_completed receiver %r failed for enrolment %s",
                receiver,
                enrollment_id,
                exc_info=(type(result), result, result.__traceback__),
            )


def _ensure_unlocked(*, enrollment: Enrollment, module: Module) -> None:
    if module_states(enrollment=enrollment)[module.pk] == ModuleState.LOCKED:
        raise ModuleLocked()


@transaction.atomic
def lesson_complete(*, enrollment: Enrollment, lesson: Lesson) -> bool:
    """Mark ``lesson`` done for ``enrollment``; True if newly recorded.

    Side effects: writes a LessonCompletion, may complete the module and the course (which sends
    ``course_completed`` once, after commit). Idempotent and safe to race: the database allows one
    completion per lesson and the module/course completions are conditional updates.
    Raises ModuleLocked when the lesson's module is still locked.
    """
    # Serialise concurrent writes for this enrolment so the completion checks see each other
    # (of=self: never the cohort row, which every participant of the cohort shares).
    enrollment = enrollment_lock(enrollment.pk)
    module = lesson.module
    _ensure_unlocked(enrollment=enrollment, module=module)
    _, created = LessonCompletion.objects.get_or_create(enrollment=enrollment, lesson=lesson)
    if created:  # a lesson already done cannot change the module's state
        _module_complete_if_done(enrollment=enrollment, module=module, has_quiz=_module_has_quiz(module))
    return created


def _module_has_quiz(module: Module) -> bool:
    # The quiz lives in another app; courses only knows it through the "quiz" extension point.
    return module_extras([module.pk], ["quiz"])["quiz"].get(module.pk) is not None


# savepoint=False: called inside the submit's transaction, a savepoint would only add statements.
@transaction.atomic(savepoint=False)
def quiz_result_record(*, enrollment: Enrollment, module: Module, score_percent: int, passed: bool) -> None:
    """Record a graded quiz attempt for ``module``: keeps the best score, the first pass time.

    Side effects: upserts ModuleProgress; a pass may complete the module and the course (which
    sends ``course_completed`` once, after commit). Idempotent: recording the same result again
    changes nothing. Three statements on PostgreSQL and SQLite (the enrolment locked together with
    what the decision needs, one ``INSERT … ON CONFLICT``, and the course completion when it is the
    last module); the module's lessons and the course's module count come from the content cache.
    """
    if connection.vendor not in ("postgresql", "sqlite"):
        _quiz_result_record_portable(enrollment=enrollment, module=module, score_percent=score_percent, passed=passed)
        return
    state = _enrollment_lock_with_progress(enrollment_pk=enrollment.pk, module=module)
    now = timezone.now()
    completes = (
        not state.completed_before
        and (passed or state.passed_before)
        and state.lessons_done >= len(module_lesson_ids(module))
    )
    _module_progress_upsert(
        enrollment_id=state.enrollment.pk,
        module_id=module.pk,
        best_score=score_percent,
        quiz_passed_at=now if passed else None,
        completed_at=now if completes else None,
    )
    if completes and state.modules_done + 1 >= course_module_count(state.enrollment.cohort.course_id):
        _course_completed_record(enrollment=state.enrollment, now=now)


@dataclass(frozen=True)
class _ProgressState:
    enrollment: Enrollment
    passed_before: bool  # the module's quiz was passed before this result
    completed_before: bool  # the module was completed before
    lessons_done: int  # of the module's lessons
    modules_done: int  # other modules completed


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _enrollment_lock_with_progress(*, enrollment_pk: int, module: Module) -> _ProgressState:
    """The enrolment locked (as ``enrollment_lock``: only its row), then its progress in ``module``.

    Two statements in raw SQL (compiling them through the ORM cost more than running them), not
    one: under READ COMMITTED a ``SELECT … FOR UPDATE`` that waited for the lock still evaluates its
    subqueries on the snapshot taken before the wait, so it would miss a lesson completed by the
    transaction it waited for. The second statement, run after the lock, sees it."""
    enrollment, cohort = _table(Enrollment), _table(Cohort)
    lock = f" FOR UPDATE OF {enrollment}" if connection.features.has_select_for_update_of else ""
    progress, completion, lesson = _table(ModuleProgress), _table(LessonCompletion), _table(Lesson)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {enrollment}.id, {enrollment}.cohort_id, {cohort}.course_id FROM {enrollment} "
            f"INNER JOIN {cohort} ON {cohort}.id = {enrollment}.cohort_id WHERE {enrollment}.id = %s{lock}",
            [enrollment_pk],
        )
        row = cursor.fetchone()
        if row is None:
            raise Enrollment.DoesNotExist(f"enrollment {enrollment_pk}")
        locked = Enrollment(pk=row[0], cohort_id=row[1])
        locked.cohort = Cohort(pk=row[1], course_id=row[2])
        cursor.execute(
            f"SELECT "
            f"(SELECT COUNT(*) FROM {progress} WHERE enrollment_id = %s AND module_id = %s "
            f"AND quiz_passed_at IS NOT NULL), "
            f"(SELECT COUNT(*) FROM {progress} WHERE enrollment_id = %s AND module_id = %s "
            f"AND completed_at IS NOT NULL), "
            f"(SELECT COUNT(*) FROM {completion} INNER JOIN {lesson} ON {lesson}.id = {completion}.lesson_id "
            f"WHERE {completion}.enrollment_id = %s AND {lesson}.module_id = %s), "
            f"(SELECT COUNT(*) FROM {progress} WHERE enrollment_id = %s AND module_id <> %s "
            f"AND completed_at IS NOT NULL)",
            [enrollment_pk, module.pk] * 4,
        )
        passed, completed, lessons_done, modules_done = cursor.fetchone()
    return _ProgressState(
        enrollment=locked,
        passed_before=bool(passed),
        completed_before=bool(completed),
        lessons_done=lessons_done,
        modules_done=modules_done,
    )


def _module_progress_upsert(
    *, enrollment_id: int, module_id: int, best_score: int, quiz_passed_at, completed_at
) -> None:
    """One ``INSERT … ON CONFLICT DO UPDATE`` (PostgreSQL and SQLite): the best score kept, the first
    pass and completion times kept."""
    table = connection.ops.quote_name(ModuleProgress._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"INSERT INTO {table} (enrollment_id, module_id, best_score, quiz_passed_at, completed_at) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (enrollment_id, module_id) DO UPDATE SET "
        f"best_score = CASE WHEN {table}.best_score IS NULL OR {table}.best_score < excluded.best_score "
        f"THEN excluded.best_score ELSE {table}.best_score END, "
        f"quiz_passed_at = COALESCE({table}.quiz_passed_at, excluded.quiz_passed_at), "
        f"completed_at = COALESCE({table}.completed_at, excluded.completed_at)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [enrollment_id, module_id, best_score, adapt(quiz_passed_at), adapt(completed_at)])


def _course_completed_record(*, enrollment: Enrollment, now) -> bool:
    """Every module is completed: record the course completed (one conditional UPDATE), unless the
    course requires an action plan that is not submitted yet; ``course_completed`` after commit.
    True when this call recorded it."""
    plan_done = Q(cohort__course__action_plan_required=False) | Q(action_plan__isnull=False)
    if Enrollment.objects.filter(plan_done, pk=enrollment.pk, completed_at__isnull=True).update(completed_at=now):
        enrollment.completed_at = now
        enrollment_id = enrollment.pk
        transaction.on_commit(lambda: _course_completed_send(enrollment_id=enrollment_id))
        return True
    return False


def _quiz_result_record_portable(*, enrollment: Enrollment, module: Module, score_percent: int, passed: bool) -> None:
    """``quiz_result_record`` for databases without ``INSERT … ON CONFLICT``: get_or_create and updates."""
    enrollment = enrollment_lock(enrollment.pk)
    progress, _ = ModuleProgress.objects.get_or_create(enrollment=enrollment, module=module)
    ModuleProgress.objects.filter(pk=progress.pk).filter(
        Q(best_score__isnull=True) | Q(best_score__lt=score_percent)
    ).update(best_score=score_percent)
    if passed:
        now = timezone.now()
        if ModuleProgress.objects.filter(pk=progress.pk, quiz_passed_at__isnull=True).update(quiz_passed_at=now):
            progress.quiz_passed_at = now
        _module_complete_if_done(enrollment=enrollment, module=module, has_quiz=True, progress=progress)
