"""Progress: module states along the unlock chain and the progress of enrollments, in a fixed number of queries."""

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet

from ..conf import courses_setting
from ..content_cache import course_outline
from ..extensions import enrollment_extras, enrollment_module_extras, progress_columns
from ..id_lists import ids_in
from ..models import Cohort, Enrollment, LessonCompletion, Module, ModuleProgress, ModuleState


def _is_set(field_name: str) -> ExpressionWrapper:
    """Whether ``field_name`` holds a value, as a boolean read from the database."""
    return ExpressionWrapper(Q(**{f"{field_name}__isnull": False}), output_field=BooleanField())


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
        if module.id in completed:
            state = ModuleState.COMPLETED
        elif previous_completed:
            state = ModuleState.AVAILABLE
        else:
            state = ModuleState.LOCKED
        states[module.id] = state
        previous_completed = state == ModuleState.COMPLETED
    return states


@dataclass(frozen=True)
class ModuleProgressView:
    module: Module
    state: str
    best_score: int | None
    lessons_done: int
    lessons_total: int
    has_quiz: bool
    quiz_passed: bool
    # All quiz attempts used without a pass: the participant waits for the operator.
    needs_help: bool = False
    quiz: dict[str, Any] | None = None  # the "quiz" module extra (title, url, …)
    # Values other apps attach per enrolment and module (``enrollment_module_extras``), e.g. attempts_left.
    extras: dict[str, Any] = field(default_factory=dict)


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
    def awaiting_action_plan(self) -> bool:
        """Every module completed, and only the required action plan stands between them and completion."""
        return (
            self.enrollment.completed_at is None
            and self.action_plan["required"]
            and self.action_plan["submitted_at"] is None
            and bool(self.modules)
            and all(module.state == ModuleState.COMPLETED for module in self.modules)
        )

    @property
    def action_plan(self) -> dict[str, Any]:
        """``{"required", "submitted_at"}`` (contract): whether the course needs a plan, and when it came."""
        return {
            "required": self.enrollment.cohort.course.action_plan_required,
            "submitted_at": getattr(self.enrollment, "action_plan_submitted_at", None),
        }

    @property
    def column_values(self) -> list[Any]:
        """The cells of the report columns other apps registered (``extensions.progress_columns``)."""
        return [column.value(self.extras) for column in progress_columns()]


_NO_PROGRESS = (None, False, False, False)


def enrollments_progress(
    enrollments: QuerySet[Enrollment],
    *,
    extras: Iterable[str] | None = None,
    module_values: Iterable[str] = (),
    cohort: Cohort | None = None,
) -> list[EnrollmentProgressView]:
    """Progress of each enrolment in ``enrollments``, in its order, in four queries whatever their
    number (the course outline, its modules and quizzes, comes from the content cache; two more when
    it is not cached).

    ``extras``: the enrolment extras to read (None: every registered one; each costs its provider's
    queries); ``module_values``: the per-enrolment-and-module extras to read (e.g. ``attempts_left``);
    ``cohort``: the cohort every enrolment belongs to, if known (its rows then carry that one object
    instead of a cohort and a course each). Annotations of ``enrollments`` stay on the rows.

    A module's state follows the unlock chain; a completed module (a recorded fact) counts all its
    items as done even if lessons were added later. ``progress_percent`` is the whole-percent share
    of done items (lessons plus quizzes), 100 only once the enrolment's course is completed.
    """
    # Only the columns progress needs: at 2,000 participants, building full rows dominates the time.
    columns = ["id", "enrolled_at", "completed_at", "cohort_id"]
    columns += ["participant__id", "participant__user_id", "participant__nip", "participant__full_name"]
    columns += ["participant__unit"]
    if cohort is None:
        related = ("cohort__course", "participant")
        columns += ["cohort__name", "cohort__course__id", "cohort__course__slug", "cohort__course__title"]
        columns += ["cohort__course__action_plan_required"]
    else:
        related = ("participant",)
    rows = list(
        enrollments.select_related(*related)
        .annotate(action_plan_submitted_at=F("action_plan__submitted_at"))
        .only(*columns)
    )
    if not rows:
        return []
    if cohort is not None:
        set_cohort = Enrollment.cohort.field.set_cached_value
        for enrollment in rows:
            set_cohort(enrollment, cohort)
    modules_by_course: dict[int, list[Module]] = {}
    quizzes: dict[int, Any] = {}
    for course_id in {e.cohort.course_id for e in rows}:
        modules_by_course[course_id], course_quizzes = course_outline(course_id)
        quizzes.update(course_quizzes)
    modules_extras = {"quiz": quizzes}

    enrollment_ids = [e.id for e in rows]
    # (best_score, quiz passed, module completed, needs help) per (enrollment, module), as plain tuples.
    progress: dict[tuple[int, int], tuple[int | None, bool, bool, bool]] = {
        (enrollment_id, module_id): (best, passed, completed, help_needed)
        for enrollment_id, module_id, best, passed, completed, help_needed in ModuleProgress.objects.filter(
            enrollment__in=enrollments
        )
        .annotate(
            passed=_is_set("quiz_passed_at"),
            completed=_is_set("completed_at"),
            help_needed=_is_set("help_needed_at"),
        )
        .values_list("enrollment_id", "module_id", "best_score", "passed", "completed", "help_needed")
    }
    lessons_done: dict[tuple[int, int], int] = {
        (enrollment_id, module_id): n
        for enrollment_id, module_id, n in LessonCompletion.objects.filter(enrollment__in=enrollments)
        .values("enrollment_id", "lesson__module_id")
        .annotate(n=Count("id"))
        .values_list("enrollment_id", "lesson__module_id", "n")
    }
    row_extras = enrollment_extras(enrollment_ids, extras)  # whatever other apps registered
    per_module = enrollment_module_extras(enrollment_ids, modules_extras, list(module_values)) if module_values else {}

    # Ids as plain ints once: ``.pk`` is a property, and this loop would call it 60 times a row.
    outlines = {
        course_id: [(module, module.id, module.lesson_count, quizzes.get(module.id)) for module in modules]
        for course_id, modules in modules_by_course.items()
    }
    result = []
    for enrollment in rows:
        enrollment_id = enrollment.id
        course_id = enrollment.cohort.course_id
        outline = outlines[course_id]
        module_progress = [progress.get((enrollment_id, module_id), _NO_PROGRESS) for _, module_id, _, _ in outline]
        completed = {module_id for (_, module_id, _, _), row in zip(outline, module_progress, strict=True) if row[2]}
        states = _states(modules_by_course[course_id], completed)
        module_values_of = {name: values.get(enrollment_id, {}) for name, values in per_module.items()}
        views, done, total = [], 0, 0
        for (module, module_id, lesson_count, quiz), (best_score, quiz_passed, _, help_needed) in zip(
            outline, module_progress, strict=True
        ):
            has_quiz = quiz is not None
            is_completed = module_id in completed
            done_lessons = min(lessons_done.get((enrollment_id, module_id), 0), lesson_count)
            items = lesson_count + int(has_quiz)
            total += items
            done += items if is_completed else done_lessons + int(has_quiz and quiz_passed)
            views.append(
                ModuleProgressView(
                    module=module,
                    state=states[module_id],
                    best_score=best_score,
                    lessons_done=lesson_count if is_completed else done_lessons,
                    lessons_total=lesson_count,
                    has_quiz=has_quiz,
                    quiz_passed=quiz_passed,
                    needs_help=help_needed and not is_completed,
                    quiz=quiz,
                    extras={name: values.get(module_id) for name, values in module_values_of.items()},
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
                extras={name: values.get(enrollment_id) for name, values in row_extras.items()},
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
    return Enrollment.objects.filter(participant__user=user, removed_at__isnull=True).order_by("-enrolled_at", "-pk")


# --- A cohort's progress report ------------------------------------------------------------------

PROGRESS_STATES = ("completed", "in_progress", "not_started")
PROGRESS_SORTS: dict[str, Callable[[EnrollmentProgressView], Any]] = {
    "name": lambda item: item.enrollment.participant.full_name.lower(),
    "nip": lambda item: item.enrollment.participant.nip,
    "unit": lambda item: item.enrollment.participant.unit.lower(),
    "progress": lambda item: item.progress_percent,
    "completed": lambda item: (item.completed_at is None, item.completed_at or 0),
}


def progress_state(item: EnrollmentProgressView) -> str:
    """Where a participant stands in the course: ``completed``, ``in_progress`` (anything done) or ``not_started``."""
    if item.completed_at:
        return "completed"
    return "in_progress" if item.progress_percent > 0 else "not_started"


@dataclass(frozen=True)
class ModuleSummary:
    module: Module
    completed: int  # participants who completed the module
    percent: int  # of the cohort's participants, rounded


@dataclass(frozen=True)
class CohortProgressReport:
    """What an operator sees of a cohort: the filtered, sorted rows and the whole cohort's summary."""

    modules: list[Module]
    rows: list[EnrollmentProgressView]  # those the filters keep, sorted
    summary: list[ModuleSummary]  # per module, over the whole cohort
    total: int  # participants in the cohort
    courses_done: int  # of them, those who completed the course
    units: list[str]  # the cohort's units, for the filter
    unit: str
    state: str  # one of PROGRESS_STATES, or "" (everyone)
    sort: str  # as asked: a key of PROGRESS_SORTS, "-" first for descending; unknown ones sort by name


def _report_filter(*, unit: str, state: str) -> Callable[[EnrollmentProgressView], bool] | None:
    if not unit and not state:
        return None
    return lambda item: (
        (not unit or item.enrollment.participant.unit == unit) and (not state or progress_state(item) == state)
    )


def cohort_progress_selection(
    *, cohort: Cohort, unit: str = "", state: str = ""
) -> tuple[QuerySet[Enrollment], Callable[[EnrollmentProgressView], bool] | None]:
    """The enrollments a filtered report shows and the test each row must pass (None: all), for the
    exports, which stream the rows rather than build the report. An unknown ``state`` filters nothing."""
    from .cohorts import cohort_enrollments

    state = state if state in PROGRESS_STATES else ""
    enrollments = cohort_enrollments(cohort=cohort)
    if unit:
        enrollments = enrollments.filter(participant__unit=unit)
    return enrollments, _report_filter(unit="", state=state)


def cohort_progress_report(
    *, cohort: Cohort, unit: str = "", state: str = "", sort: str = "name"
) -> CohortProgressReport:
    """The cohort's progress report: rows of the participants in ``unit`` and ``state`` (empty: all),
    sorted by ``sort``, with the per-module summary and totals of the whole cohort. An unknown
    ``state`` filters nothing. ``enrollments_progress``'s queries plus one for the modules."""
    from .cohorts import cohort_enrollments

    state = state if state in PROGRESS_STATES else ""
    progress = enrollments_progress(cohort_enrollments(cohort=cohort))
    modules = list(cohort.course.modules.order_by("order", "id"))
    total = len(progress)
    summary = []
    for index, module in enumerate(modules):
        completed = sum(1 for item in progress if item.modules[index].state == ModuleState.COMPLETED)
        summary.append(
            ModuleSummary(module=module, completed=completed, percent=round(completed * 100 / total) if total else 0)
        )
    keep = _report_filter(unit=unit, state=state)
    rows = [item for item in progress if keep is None or keep(item)]
    rows.sort(key=PROGRESS_SORTS.get(sort.lstrip("-"), PROGRESS_SORTS["name"]), reverse=sort.startswith("-"))
    return CohortProgressReport(
        modules=modules,
        rows=rows,
        summary=summary,
        total=total,
        courses_done=sum(1 for item in progress if item.completed_at),
        units=sorted({item.enrollment.participant.unit for item in progress if item.enrollment.participant.unit}),
        unit=unit,
        state=state,
        sort=sort,
    )


# --- The cohort progress report, streamed ---------------------------------------------------------


class ProgressRow(NamedTuple):
    """One participant's row of the streamed cohort report: plain values, no model instances."""

    nip: str
    full_name: str
    unit: str
    progress_percent: int
    # (module id, state, best score, attempts left or None without a quiz) in course order
    modules: list[tuple[int, str, int | None, int | None]]
    completed_at: Any
    columns: list[Any]  # the registered progress columns' cells, in ``progress_columns()`` order


def _row_cells(
    modules: list[tuple[int, int, bool]],
    progress: dict[int, tuple[int | None, bool, bool]],
    lessons_done: dict[int, int],
    completed_at: Any,
    attempts_left: dict[int, int | None] | None = None,
) -> tuple[int, list[tuple[int, str, int | None, int | None]]]:
    """``enrollments_progress``'s rule on plain values: the percent and each module's (id, state, best
    score, attempts left). ``modules``: (id, lesson count, has quiz) in order; ``progress``,
    ``lessons_done`` and ``attempts_left`` by module id."""
    attempts_left = attempts_left or {}
    cells = []
    done = total = 0
    previous_completed = True
    for module_id, lesson_count, has_quiz in modules:
        best, passed, completed = progress.get(module_id, (None, False, False))
        if completed:
            state = ModuleState.COMPLETED
        elif previous_completed:
            state = ModuleState.AVAILABLE
        else:
            state = ModuleState.LOCKED
        previous_completed = completed
        items = lesson_count + int(has_quiz)
        total += items
        done += items if completed else min(lessons_done.get(module_id, 0), lesson_count) + int(has_quiz and passed)
        cells.append((module_id, state, best, attempts_left.get(module_id) if has_quiz else None))
    if completed_at:
        return 100, cells
    return (min(99, done * 100 // total) if total else 0), cells


def cohort_progress_stream(*, cohort: Cohort, size: int | None = None) -> tuple[int, Iterator[ProgressRow]]:
    """The cohort's report rows ordered by participant name, streamed: the number of modules, and an
    iterator of ``ProgressRow``.

    Linear at any size and bounded in memory: the modules and quizzes are read once (from the content
    cache, ``course_outline``); the enrolments come from one query (a server-side cursor on
    PostgreSQL) with the registered columns that have an SQL ``annotation`` (the certificate number)
    joined in; module progress and lesson completions are read per chunk of ``size``
    (``PROGRESS_CHUNK_SIZE``) enrolments by their ids, with the attempts left at each quiz (the
    ``attempts_left`` module extra). Participants removed by an operator are left out, as in
    ``cohort_enrollments``."""
    size = size or courses_setting("PROGRESS_CHUNK_SIZE")
    outline, quizzes = course_outline(cohort.course_id)
    modules = [(module.pk, module.lesson_count, quizzes.get(module.pk) is not None) for module in outline]
    columns = progress_columns()
    annotated = {f"column_{index}": column.annotation() for index, column in enumerate(columns) if column.annotation}
    needs_extras = len(annotated) < len(columns)
    enrollments = (
        Enrollment.objects.filter(cohort=cohort, removed_at__isnull=True)
        .order_by("participant__full_name", "pk")
        .annotate(**annotated)
        .values_list(
            "pk", "participant__nip", "participant__full_name", "participant__unit", "completed_at", *annotated
        )
        .iterator(chunk_size=size)
    )

    def rows() -> Iterator[ProgressRow]:
        while chunk := list(itertools.islice(enrollments, size)):
            ids = [row[0] for row in chunk]
            progress: dict[int, dict[int, tuple[int | None, bool, bool]]] = {}
            for enrollment_id, module_id, best, passed, completed in (
                ModuleProgress.objects.filter(ids_in("enrollment_id", ids))
                .order_by()
                # Whether passed and completed, not when: no timestamps to read for each module.
                .annotate(passed=_is_set("quiz_passed_at"), completed=_is_set("completed_at"))
                .values_list("enrollment_id", "module_id", "best_score", "passed", "completed")
            ):
                progress.setdefault(enrollment_id, {})[module_id] = (best, passed, completed)
            lessons: dict[int, dict[int, int]] = {}
            for enrollment_id, module_id, n in (
                LessonCompletion.objects.filter(ids_in("enrollment_id", ids))
                .order_by()
                .values("enrollment_id", "lesson__module_id")
                .annotate(n=Count("id"))
                .values_list("enrollment_id", "lesson__module_id", "n")
            ):
                lessons.setdefault(enrollment_id, {})[module_id] = n
            extras = enrollment_extras(ids) if needs_extras else {}
            attempts = enrollment_module_extras(ids, {"quiz": quizzes}, ["attempts_left"])["attempts_left"]
            for pk, nip, full_name, unit, completed_at, *sql_cells in chunk:
                percent, cells = _row_cells(
                    modules, progress.get(pk, {}), lessons.get(pk, {}), completed_at, attempts.get(pk, {})
                )
                sql_values = iter(sql_cells)
                row_extras = {name: values.get(pk) for name, values in extras.items()}
                yield ProgressRow(
                    nip,
                    full_name,
                    unit,
                    percent,
                    cells,
                    completed_at,
                    [next(sql_values) if column.annotation else column.value(row_extras) for column in columns],
                )

    return len(modules), rows()
