"""The progress engine: lesson completions, quiz results, module and course completion."""

import logging

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from ..errors import ModuleLocked
from ..extensions import module_extras
from ..locks import enrollment_lock
from ..models import ActionPlan, Course, Enrollment, Lesson, LessonCompletion, Module, ModuleProgress, ModuleState
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
    lesson_ids = set(module.lessons.values_list("pk", flat=True))
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
    course_id = enrollment.cohort.course_id
    course_modules = Module.objects.filter(course_id=course_id).count()
    completed = ModuleProgress.objects.filter(enrollment=enrollment, completed_at__isnull=False).count()
    if completed < course_modules:
        return False
    if (
        Course.objects.filter(pk=course_id, action_plan_required=True).exists()
        and not ActionPlan.objects.filter(enrollment=enrollment).exists()
    ):
        return False
    if Enrollment.objects.filter(pk=enrollment.pk, completed_at__isnull=True).update(completed_at=now):
        enrollment.completed_at = now
        enrollment_id = enrollment.pk
        transaction.on_commit(lambda: _course_completed_send(enrollment_id=enrollment_id))
        return True
    return False


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


@transaction.atomic
def quiz_result_record(*, enrollment: Enrollment, module: Module, score_percent: int, passed: bool) -> None:
    """Record a graded quiz attempt for ``module``: keeps the best score, the first pass time.

    Side effects: updates ModuleProgress; a pass may complete the module and the course (which
    sends ``course_completed`` once, after commit). Idempotent: recording the same result again
    changes nothing.
    """
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
