"""The participant's next step: the one place that decides what every participant page offers first."""

import datetime
from dataclasses import dataclass
from enum import StrEnum

from django.urls import reverse
from django.utils import timezone

from ..conf import courses_setting
from ..models import Enrollment, Lesson, LessonCompletion, ModuleProgress, ModuleState
from .progress import EnrollmentProgressView, ModuleProgressView, enrollments_progress


class StepKind(StrEnum):
    START = "start"  # nothing done yet: the course's first lesson
    LESSON = "lesson"  # the first lesson of the current module not done yet
    NEXT_MODULE = "next_module"  # the previous module is completed: the first lesson of this one
    QUIZ = "quiz"  # every lesson of the module done: its quiz
    HELP = "help"  # every quiz attempt used without a pass: what happens now, whom to contact
    ACTION_PLAN = "action_plan"  # every module completed, the required action plan not submitted yet
    COMPLETED = "completed"  # the course is completed: the completion page with the certificate
    COURSE = "course"  # nothing to open now (e.g. the completion waits on something else): the course page


@dataclass(frozen=True)
class NextStep:
    """What a participant should do next in an enrolment: ``kind``, the page it opens (``url``) and,
    where there is one, the module and the lesson (``lesson_id``, ``lesson_title``) or quiz it is about."""

    kind: StepKind
    url: str
    module: ModuleProgressView | None = None
    lesson_id: int | None = None
    lesson_title: str = ""
    quiz_title: str = ""


def completion_url(enrollment: Enrollment) -> str:
    return reverse("courses:completion", kwargs={"slug": enrollment.cohort.course.slug})


def help_url(enrollment: Enrollment, module_id: int) -> str:
    return reverse("courses:module-help", kwargs={"pk": enrollment.pk, "module_pk": module_id})


def next_steps(progress: list[EnrollmentProgressView]) -> dict[int, NextStep]:
    """The next step of each enrolment in ``progress`` (``enrollments_progress`` rows), by enrolment id.

    Completed (``Enrollment.completed_at``, whatever the course requires for it) → the completion page.
    Every module completed and only the required action plan missing → the action plan page. Otherwise the current module is the first one available: needs help → the help page; a lesson
    not done → that lesson (the first of the course: start; the first of a module after a completed
    one: the next module); every lesson done → its quiz. No module available and not completed →
    the course page. At most two queries whatever the number of enrolments (none when no lesson is
    to be looked for).
    """
    steps: dict[int, NextStep] = {}
    current: dict[int, ModuleProgressView] = {}
    for item in progress:
        enrollment = item.enrollment
        if enrollment.completed_at:
            steps[enrollment.pk] = NextStep(kind=StepKind.COMPLETED, url=completion_url(enrollment))
            continue
        if item.awaiting_action_plan:
            steps[enrollment.pk] = NextStep(
                kind=StepKind.ACTION_PLAN, url=reverse("courses:action-plan", args=[enrollment.pk])
            )
            continue
        module = next((m for m in item.modules if m.state == ModuleState.AVAILABLE), None)
        if module is None:
            steps[enrollment.pk] = NextStep(
                kind=StepKind.COURSE, url=reverse("courses:enrollment", args=[enrollment.pk])
            )
        elif module.needs_help:
            steps[enrollment.pk] = NextStep(
                kind=StepKind.HELP, url=help_url(enrollment, module.module.pk), module=module
            )
        elif module.lessons_done >= module.lessons_total and module.quiz and not module.quiz_passed:
            steps[enrollment.pk] = NextStep(
                kind=StepKind.QUIZ, url=module.quiz["url"], module=module, quiz_title=module.quiz["title"]
            )
        else:
            current[enrollment.pk] = module
    if not current:
        return steps

    module_ids = {module.module.pk for module in current.values()}
    lessons: dict[int, list[tuple[int, str]]] = {}
    for pk, module_id, title in (
        Lesson.objects.filter(module_id__in=module_ids).order_by("order", "id").values_list("pk", "module_id", "title")
    ):
        lessons.setdefault(module_id, []).append((pk, title))
    done = set(
        LessonCompletion.objects.filter(enrollment_id__in=list(current), lesson__module_id__in=module_ids).values_list(
            "enrollment_id", "lesson_id"
        )
    )
    by_id = {item.enrollment.pk: item for item in progress}
    for enrollment_id, module in current.items():
        item = by_id[enrollment_id]
        todo = [(pk, title) for pk, title in lessons.get(module.module.pk, []) if (enrollment_id, pk) not in done]
        if not todo:  # lessons counted done but none left to read (e.g. removed meanwhile): the course page
            steps[enrollment_id] = NextStep(
                kind=StepKind.COURSE, url=reverse("courses:enrollment", args=[enrollment_id]), module=module
            )
            continue
        lesson_id, title = todo[0]
        index = item.modules.index(module)
        if module.lessons_done:
            kind = StepKind.LESSON
        elif index == 0:
            kind = StepKind.START
        else:
            kind = StepKind.NEXT_MODULE
        steps[enrollment_id] = NextStep(
            kind=kind,
            url=reverse("courses:lesson", args=[lesson_id]),
            module=module,
            lesson_id=lesson_id,
            lesson_title=title,
        )
    return steps


def enrollment_next_step(*, enrollment: Enrollment) -> NextStep:
    """The next step of one enrolment (``enrollments_progress``'s queries plus at most two)."""
    (item,) = enrollments_progress(Enrollment.objects.filter(pk=enrollment.pk))
    return next_steps([item])[enrollment.pk]


def module_help_needed(*, enrollment: Enrollment, module_id: int) -> ModuleProgress | None:
    """The enrolment's progress in the module, with its module, if it waits for the operator (one query)."""
    return (
        ModuleProgress.objects.select_related("module")
        .filter(enrollment=enrollment, module_id=module_id, help_needed_at__isnull=False, completed_at__isnull=True)
        .first()
    )


def module_help_pending(*, now: datetime.datetime | None = None) -> list[int]:
    """Ids of the "needs help" flags whose operator email never went out (a lost message): older than
    ``HELP_SWEEP_GRACE_SECONDS``, younger than ``HELP_SWEEP_DAYS`` (one query)."""
    now = now or timezone.now()
    return list(
        ModuleProgress.objects.filter(
            help_notified_at__isnull=True,
            help_needed_at__lt=now - datetime.timedelta(seconds=courses_setting("HELP_SWEEP_GRACE_SECONDS")),
            help_needed_at__gte=now - datetime.timedelta(days=courses_setting("HELP_SWEEP_DAYS")),
        )
        .order_by("help_needed_at")
        .values_list("pk", flat=True)
    )
