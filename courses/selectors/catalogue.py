"""The catalogue: published courses, outlines, lessons, and who may open a module."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Prefetch, QuerySet
from django.utils.translation import gettext as _

from ..extensions import module_extras
from ..models import Course, Enrollment, Lesson, LessonCompletion, Module, ModuleState
from .accounts import user_is_operator
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


def course_jp_parts(*, course: Course) -> list[dict[str, Any]]:
    """The parts of the course's learning time its JP rests on (``jp_basis``), labelled, in a fixed order."""
    labels = {
        "reading_minutes": _("reading"),
        "reflection_minutes": _("reflection"),
        "quiz_minutes": _("quizzes"),
        "action_plan_minutes": _("action plan"),
    }
    basis = course.jp_basis or {}
    return [{"label": label, "minutes": basis[key]} for key, label in labels.items() if basis.get(key)]


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
        Enrollment.objects.filter(participant__user=user, cohort__course_id=course_id, removed_at__isnull=True)
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


class LessonAccessReason:
    """Why ``lesson_access`` answered as it did; API views return these as error codes."""

    NOT_ENROLLED = "not_enrolled"
    MODULE_LOCKED = "module_locked"
    UNPUBLISHED = "unpublished"
    PREVIEW = "preview"


@dataclass(frozen=True)
class LessonAccess:
    """Whether a user may read a lesson, through which enrollment (None: not enrolled, or a preview), and why."""

    enrollment: Enrollment | None
    allowed: bool
    reason: str = ""

    @property
    def preview(self) -> bool:
        """An operator's read-only look: nothing is completed through it."""
        return self.reason == LessonAccessReason.PREVIEW


def lesson_access(*, user, lesson: Lesson) -> LessonAccess:
    """May ``user`` read ``lesson``? The one rule for the lesson page and the lesson API.

    Participants read the lessons of published courses only (an unpublished course's lessons do not
    exist for them: ``unpublished``, shown as 404), through their enrollment, once the lesson's module
    is unlocked (``not_enrolled``, ``module_locked``: 403). Operators may preview any lesson they are
    not enrolled for, and every lesson of an unpublished course, read-only (``preview``). One to three
    queries; ``lesson.module.course`` should be selected with the lesson.
    """
    if not lesson.module.course.published:
        if user_is_operator(user):
            return LessonAccess(enrollment=None, allowed=True, reason=LessonAccessReason.PREVIEW)
        return LessonAccess(enrollment=None, allowed=False, reason=LessonAccessReason.UNPUBLISHED)
    access = module_access(user=user, module=lesson.module)
    if access.enrollment is None:
        if user_is_operator(user):
            return LessonAccess(enrollment=None, allowed=True, reason=LessonAccessReason.PREVIEW)
        return LessonAccess(enrollment=None, allowed=False, reason=LessonAccessReason.NOT_ENROLLED)
    if not access.allowed:
        return LessonAccess(enrollment=access.enrollment, allowed=False, reason=LessonAccessReason.MODULE_LOCKED)
    return LessonAccess(enrollment=access.enrollment, allowed=True)


@dataclass(frozen=True)
class LessonView:
    lesson: Lesson
    body_html: str
    previous_id: int | None
    next_id: int | None
    completed: bool
    first_in_module: bool = False  # the module's objectives open it
    last_in_module: bool = False  # the module's recap and references close it
    recap_html: str = ""


def lesson_view(*, lesson: Lesson, enrollment: Enrollment | None) -> LessonView:
    """A lesson with its rendered body, its neighbours in the course, and whether it is done."""
    from ..rendering import markdown_to_html

    rows = list(
        Lesson.objects.filter(module__course_id=lesson.module.course_id)
        .order_by("module__order", "module_id", "order", "id")
        .values_list("pk", "module_id")
    )
    ordered = [pk for pk, _module in rows]
    index = ordered.index(lesson.pk)
    in_module = [pk for pk, module_id in rows if module_id == lesson.module_id]
    last = in_module[-1] == lesson.pk
    completed = bool(enrollment and LessonCompletion.objects.filter(enrollment=enrollment, lesson=lesson).exists())
    return LessonView(
        lesson=lesson,
        body_html=markdown_to_html(lesson.body),
        previous_id=ordered[index - 1] if index > 0 else None,
        next_id=ordered[index + 1] if index + 1 < len(ordered) else None,
        completed=completed,
        first_in_module=in_module[0] == lesson.pk,
        last_in_module=last,
        recap_html=markdown_to_html(lesson.module.recap) if last and lesson.module.recap else "",
    )
