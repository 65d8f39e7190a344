"""Reads of the courses app, each a fixed number of queries."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.utils import timezone

from .conf import courses_setting
from .extensions import enrollment_extras, module_extras
from .models import (
    Cohort,
    Course,
    Enrollment,
    Lesson,
    LessonCompletion,
    Module,
    ModuleProgress,
    ModuleState,
    ParticipantProfile,
)

# Extras every module outline carries (contract: "quiz": {...} or null).
OUTLINE_EXTRAS = ("quiz",)


def course_list_published() -> QuerySet[Course]:
    """Published courses with ``modules_count`` annotated (one query)."""
    return Course.objects.filter(published=True).annotate(modules_count=Count("modules")).order_by("title")


@dataclass
class ModuleOutline:
    module: Module
    lessons: list[Lesson]
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class CourseOutline:
    course: Course
    modules: list[ModuleOutline]


def course_outline(*, slug: str, published_only: bool = True) -> CourseOutline | None:
    """A course with its ordered modules, lessons and registered extras; None if not found."""
    courses = Course.objects.filter(slug=slug)
    if published_only:
        courses = courses.filter(published=True)
    course = courses.prefetch_related(
        Prefetch(
            "modules",
            queryset=Module.objects.order_by("order", "id").prefetch_related(
                Prefetch("lessons", queryset=Lesson.objects.order_by("order", "id").defer("body"))
            ),
        )
    ).first()
    if course is None:
        return None
    modules = list(course.modules.all())
    extras = module_extras([m.pk for m in modules], OUTLINE_EXTRAS)
    return CourseOutline(
        course=course,
        modules=[
            ModuleOutline(
                module=m,
                lessons=list(m.lessons.all()),
                extras={name: extras[name].get(m.pk) for name in OUTLINE_EXTRAS},
            )
            for m in modules
        ],
    )


@dataclass(frozen=True)
class ModuleAccess:
    """Whether a user may use a module: their enrolment (None if not enrolled) and its state."""

    enrollment: Enrollment | None
    state: str

    @property
    def allowed(self) -> bool:
        return self.enrollment is not None and self.state != ModuleState.LOCKED


def enrollment_for_course(*, user, course_id: int) -> Enrollment | None:
    """The user's enrolment in a cohort of the course: the newest unfinished one, else the newest."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Enrollment.objects.filter(participant__user=user, cohort__course_id=course_id)
        .select_related("cohort", "participant")
        .order_by(F("completed_at").desc(nulls_first=True), "-enrolled_at", "-pk")
        .first()
    )


def module_states(*, enrollment: Enrollment, modules: list[Module] | None = None) -> dict[int, str]:
    """State of every module of the enrolment's course, in order (two queries, or one with ``modules``).

    Completed is a recorded fact (``ModuleProgress.completed_at``); the first module not completed
    after a completed one (or the first module) is available; the rest are locked.
    """
    if modules is None:
        modules = list(Module.objects.filter(course_id=enrollment.cohort.course_id).order_by("order", "id"))
    completed = set(
        ModuleProgress.objects.filter(enrollment=enrollment, completed_at__isnull=False).values_list(
            "module_id", flat=True
        )
    )
    return _states(modules, completed)


def _states(modules: list[Module], completed: set[int]) -> dict[int, str]:
    states: dict[int, str] = {}
    previous_completed = True
    for module in modules:
        if module.pk in completed:
            state = ModuleState.COMPLETED
        elif previous_completed:
            state = ModuleState.AVAILABLE
        else:
            state = ModuleState.LOCKED
        states[module.pk] = state
        previous_completed = state == ModuleState.COMPLETED
    return states


def module_access(*, user, module: Module) -> ModuleAccess:
    """May ``user`` open ``module``'s lessons and quiz? Enrolment plus the unlock chain."""
    enrollment = enrollment_for_course(user=user, course_id=module.course_id)
    if enrollment is None:
        return ModuleAccess(enrollment=None, state=ModuleState.LOCKED)
    return ModuleAccess(enrollment=enrollment, state=module_states(enrollment=enrollment)[module.pk])


def user_is_operator(user) -> bool:
    """Operators run cohorts: superusers and members of the operators group."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=courses_setting("OPERATORS_GROUP")).exists()


def privileged_user_ids(*, user_ids: Iterable[int]) -> set[int]:
    """Of ``user_ids``, the staff, superusers and operators (one query): accounts an import never changes.

    Operators as :func:`user_is_operator` defines them, plus staff, whom Django's admin lets in.
    Active or not: a deactivated administrator can be reactivated, so their account stays guarded.
    """
    User = get_user_model()
    privileged = Q(is_staff=True) | Q(is_superuser=True) | Q(groups__name=courses_setting("OPERATORS_GROUP"))
    return set(User.objects.filter(privileged, pk__in=list(user_ids)).values_list("pk", flat=True).distinct())


def cohort_list() -> QuerySet[Cohort]:
    """Cohorts with their course and number of participants (one query)."""
    return Cohort.objects.select_related("course").annotate(participants_count=Count("enrollments"))


def cohort_participants(*, cohort: Cohort, search: str = "", unit: str = "") -> QuerySet[Enrollment]:
    """The cohort's enrolments with participant and user, filtered by name/NIP and unit."""
    enrollments = Enrollment.objects.filter(cohort=cohort).select_related("participant__user")
    search = search.strip()
    if search:
        digits = search.replace(" ", "")
        enrollments = enrollments.filter(
            Q(participant__full_name__icontains=search) | Q(participant__nip__contains=digits)
        )
    if unit:
        enrollments = enrollments.filter(participant__unit=unit)
    return enrollments.order_by("participant__full_name", "pk")


def cohort_units(*, cohort: Cohort) -> list[str]:
    """Distinct units (OPD) of the cohort's participants, for filtering."""
    return list(
        ParticipantProfile.objects.filter(enrollments__cohort=cohort)
        .exclude(unit="")
        .values_list("unit", flat=True)
        .distinct()
        .order_by("unit")
    )


# --- Progress ------------------------------------------------------------------------------------

# Extras every progress row carries; the certificates app provides "certificate": {number, code, url}.
PROGRESS_EXTRAS = ("certificate",)


@dataclass(frozen=True)
class ModuleProgressView:
    module: Module
    state: str
    best_score: int | None
    lessons_done: int
    lessons_total: int
    has_quiz: bool
    quiz_passed: bool


@dataclass(frozen=True)
class EnrollmentProgressView:
    enrollment: Enrollment
    progress_percent: int
    modules: list[ModuleProgressView]
    extras: dict[str, Any]

    @property
    def completed_at(self):
        return self.enrollment.completed_at

    @property
    def certificate(self) -> dict[str, Any] | None:
        return self.extras.get("certificate")

    @property
    def certificate_number(self) -> str | None:
        return self.certificate["number"] if self.certificate else None


def enrollments_progress(enrollments: QuerySet[Enrollment]) -> list[EnrollmentProgressView]:
    """Progress of each enrolment in ``enrollments``, in its order, in six queries whatever their number.

    A module's state follows the unlock chain; a completed module (a recorded fact) counts all its
    items as done even if lessons were added later. ``progress_percent`` is the whole-percent share
    of done items (lessons plus quizzes), 100 only once the enrolment's course is completed.
    """
    # Only the columns progress needs: at 2,000 participants, building full rows dominates the time.
    rows = list(
        enrollments.select_related("cohort__course", "participant").only(
            "id",
            "enrolled_at",
            "completed_at",
            "cohort__id",
            "cohort__name",
            "cohort__course__id",
            "cohort__course__slug",
            "cohort__course__title",
            "participant__id",
            "participant__user_id",
            "participant__nip",
            "participant__full_name",
            "participant__unit",
        )
    )
    if not rows:
        return []
    course_ids = {e.cohort.course_id for e in rows}
    modules_by_course: dict[int, list[Module]] = {}
    for module in (
        Module.objects.filter(course_id__in=course_ids).annotate(lesson_count=Count("lessons")).order_by("order", "id")
    ):
        modules_by_course.setdefault(module.course_id, []).append(module)
    all_module_ids = [m.pk for modules in modules_by_course.values() for m in modules]
    quizzes = module_extras(all_module_ids, ["quiz"])["quiz"]

    enrollment_ids = [e.pk for e in rows]
    # (best_score, quiz passed, module completed) per (enrollment, module), as plain tuples.
    progress: dict[tuple[int, int], tuple[int | None, bool, bool]] = {
        (enrollment_id, module_id): (best, passed, completed)
        for enrollment_id, module_id, best, passed, completed in ModuleProgress.objects.filter(
            enrollment__in=enrollments
        )
        .annotate(
            passed=ExpressionWrapper(Q(quiz_passed_at__isnull=False), output_field=BooleanField()),
            completed=ExpressionWrapper(Q(completed_at__isnull=False), output_field=BooleanField()),
        )
        .values_list("enrollment_id", "module_id", "best_score", "passed", "completed")
    }
    lessons_done: dict[tuple[int, int], int] = {
        (enrollment_id, module_id): n
        for enrollment_id, module_id, n in LessonCompletion.objects.filter(enrollment__in=enrollments)
        .values("enrollment_id", "lesson__module_id")
        .annotate(n=Count("id"))
        .values_list("enrollment_id", "lesson__module_id", "n")
    }
    extras = enrollment_extras(enrollment_ids, PROGRESS_EXTRAS)

    result = []
    for enrollment in rows:
        modules = modules_by_course.get(enrollment.cohort.course_id, [])
        completed = {m.pk for m in modules if progress.get((enrollment.pk, m.pk), (None, False, False))[2]}
        states = _states(modules, completed)
        views, done, total = [], 0, 0
        for module in modules:
            best_score, quiz_passed, _ = progress.get((enrollment.pk, module.pk), (None, False, False))
            has_quiz = quizzes.get(module.pk) is not None
            done_lessons = min(lessons_done.get((enrollment.pk, module.pk), 0), module.lesson_count)
            items = module.lesson_count + int(has_quiz)
            total += items
            done += items if module.pk in completed else done_lessons + int(has_quiz and quiz_passed)
            views.append(
                ModuleProgressView(
                    module=module,
                    state=states[module.pk],
                    best_score=best_score,
                    lessons_done=module.lesson_count if module.pk in completed else done_lessons,
                    lessons_total=module.lesson_count,
                    has_quiz=has_quiz,
                    quiz_passed=quiz_passed,
                )
            )
        if enrollment.completed_at:
            percent = 100
        else:
            percent = min(99, done * 100 // total) if total else 0
        result.append(
            EnrollmentProgressView(
                enrollment=enrollment,
                progress_percent=percent,
                modules=views,
                extras={name: extras[name].get(enrollment.pk) for name in PROGRESS_EXTRAS},
            )
        )
    return result


def enrollments_progress_chunks(enrollments: QuerySet[Enrollment], *, size: int | None = None):
    """``enrollments_progress`` a chunk at a time, in the (ordered) queryset's order, so a report can
    stream a large cohort without holding all of it: ``enrollments_progress``'s fixed number of
    queries per chunk of ``size`` (``PROGRESS_CHUNK_SIZE``). Chunks are slices of the queryset, so
    each stays one indexed subquery rather than a list of thousands of ids. Yields lists."""
    size = size or courses_setting("PROGRESS_CHUNK_SIZE")
    start = 0
    while True:
        chunk = enrollments_progress(enrollments[start : start + size])
        if chunk:
            yield chunk
        if len(chunk) < size:
            return
        start += size


def participant_enrollments(*, user) -> QuerySet[Enrollment]:
    """The user's enrolments, newest first."""
    return Enrollment.objects.filter(participant__user=user).order_by("-enrolled_at", "-pk")


def cohort_enrollments(*, cohort: Cohort) -> QuerySet[Enrollment]:
    """The cohort's enrolments ordered by participant name."""
    return Enrollment.objects.filter(cohort=cohort).order_by("participant__full_name", "pk")


@dataclass(frozen=True)
class LessonView:
    lesson: Lesson
    body_html: str
    previous_id: int | None
    next_id: int | None
    completed: bool


def lesson_view(*, lesson: Lesson, enrollment: Enrollment | None) -> LessonView:
    """A lesson with its rendered body, its neighbours in the course, and whether it is done."""
    from .rendering import markdown_to_html

    ordered = list(
        Lesson.objects.filter(module__course_id=lesson.module.course_id)
        .order_by("module__order", "module_id", "order", "id")
        .values_list("pk", flat=True)
    )
    index = ordered.index(lesson.pk)
    completed = bool(enrollment and LessonCompletion.objects.filter(enrollment=enrollment, lesson=lesson).exists())
    return LessonView(
        lesson=lesson,
        body_html=markdown_to_html(lesson.body),
        previous_id=ordered[index - 1] if index > 0 else None,
        next_id=ordered[index + 1] if index + 1 < len(ordered) else None,
        completed=completed,
    )


def invitations_pending() -> list[int]:
    """User ids of recent participants whose invitation never went out (its message was lost).

    Only those who have neither set a password nor logged in, created between
    ``INVITATION_SWEEP_GRACE_SECONDS`` and ``INVITATION_SWEEP_DAYS`` ago, so an address that keeps
    failing is not retried for ever. Reads only."""
    now = timezone.now()
    return list(
        ParticipantProfile.objects.filter(
            invited_at__isnull=True,
            user__last_login__isnull=True,
            user__password__startswith=UNUSABLE_PASSWORD_PREFIX,
            created_at__lte=now - datetime.timedelta(seconds=courses_setting("INVITATION_SWEEP_GRACE_SECONDS")),
            created_at__gte=now - datetime.timedelta(days=courses_setting("INVITATION_SWEEP_DAYS")),
        )
        .order_by("pk")
        .values_list("user_id", flat=True)
    )
