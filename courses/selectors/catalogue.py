"""The catalogue: published courses, outlines, lessons, and who may open a module."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Prefetch, QuerySet

from ..extensions import module_extras
from ..models import Course, Enrollment, Lesson, LessonCompletion, Module, ModuleState
from .progress import module_states

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


def module_access(*, user, module: Module) -> ModuleAccess:
    """May ``user`` open ``module``'s lessons and quiz? Enrolment plus the unlock chain."""
    enrollment = enrollment_for_course(user=user, course_id=module.course_id)
    if enrollment is None:
        return ModuleAccess(enrollment=None, state=ModuleState.LOCKED)
    return ModuleAccess(enrollment=enrollment, state=module_states(enrollment=enrollment)[module.pk])


@dataclass(frozen=True)
class LessonView:
    lesson: Lesson
    body_html: str
    previous_id: int | None
    next_id: int | None
    completed: bool


def lesson_view(*, lesson: Lesson, enrollment: Enrollment | None) -> LessonView:
    """A lesson with its rendered body, its neighbours in the course, and whether it is done."""
    from ..rendering import markdown_to_html

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
