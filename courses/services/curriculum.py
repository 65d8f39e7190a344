"""Loading a course from its curriculum files: course, modules, lessons, matched by stable keys."""

import math
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from ..conf import courses_setting
from ..content_cache import course_content_forget
from ..curriculum import (
    CurriculumError,
    CurriculumReport,
    read_markdown,
    read_yaml,
    require,
    require_one_of,
    sync_children,
    sync_replace,
    sync_row,
)
from ..locks import enrollments_lock
from ..models import Course, Enrollment, Module, Stage
from ..signals import curriculum_course_loaded, curriculum_module_loaded
from .progress import _course_complete_if_done, _modules_complete_if_done


def _unique_keys(items: list[dict[str, Any]], where: Path, kind: str) -> None:
    keys = [item["key"] for item in items]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise CurriculumError(f"{where}: duplicate {kind} key(s): {', '.join(duplicates)}")


# The sentence each learning objective completes; the pages print it once, before the list.
OBJECTIVES_FRAMING = "Setelah mempelajari modul ini, peserta mampu"
OBJECTIVES_MIN, OBJECTIVES_MAX = 3, 5
REFERENCE_FIELDS = ("author", "year", "title", "source", "note")
REFERENCE_REQUIRED = ("author", "title")
JP_MINUTES = 45


def _objectives(data: dict[str, Any], path: Path) -> list[str]:
    objectives = data.get("objectives")
    if not isinstance(objectives, list) or not OBJECTIVES_MIN <= len(objectives) <= OBJECTIVES_MAX:
        raise CurriculumError(
            f"{path}: 'objectives' must be a list of {OBJECTIVES_MIN} to {OBJECTIVES_MAX} learning objectives, "
            f'each completing "{OBJECTIVES_FRAMING} …"'
        )
    result = []
    for index, objective in enumerate(objectives, start=1):
        if not isinstance(objective, str) or not objective.strip():
            raise CurriculumError(f"{path}: 'objectives' item {index} must be a non-empty text")
        objective = " ".join(objective.split())
        lowered = objective.lower()
        if lowered.startswith(("setelah", "peserta", "mampu")) or not objective[0].islower():
            raise CurriculumError(
                f"{path}: 'objectives' item {index} must continue \"{OBJECTIVES_FRAMING} …\" with a lower-case "
                f"verb (e.g. \"menjelaskan …\"), without repeating the framing: '{objective[:60]}'"
            )
        result.append(objective)
    return result


def _references(data: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    references = data.get("references")
    if not isinstance(references, list) or not references:
        raise CurriculumError(f"{path}: 'references' must be a non-empty list of references")
    result = []
    for index, reference in enumerate(references, start=1):
        if not isinstance(reference, dict):
            raise CurriculumError(
                f"{path}: 'references' item {index} must be a mapping ({', '.join(REFERENCE_FIELDS)})"
            )
        unknown = sorted(set(reference) - set(REFERENCE_FIELDS))
        if unknown:
            raise CurriculumError(
                f"{path}: 'references' item {index} has unknown key(s) {', '.join(unknown)} "
                f"(allowed: {', '.join(REFERENCE_FIELDS)})"
            )
        for name in REFERENCE_REQUIRED:
            if not isinstance(reference.get(name), str) or not reference[name].strip():
                raise CurriculumError(f"{path}: 'references' item {index} needs '{name}' (a non-empty text)")
        year = reference.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int | str) or not str(year).strip()):
            raise CurriculumError(f"{path}: 'references' item {index}: 'year' must be a year (e.g. 2023) or a text")
        for name in ("source", "note"):
            if reference.get(name) is not None and not isinstance(reference[name], str):
                raise CurriculumError(f"{path}: 'references' item {index}: '{name}' must be a text")
        result.append({name: reference[name] for name in REFERENCE_FIELDS if reference.get(name) not in (None, "")})
    return result


def _course_apparatus(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The course's audience, JP (with its basis) and action-plan settings from course.yaml."""
    jp = data.get("jp")
    if isinstance(jp, bool) or not isinstance(jp, int) or jp < 1:
        raise CurriculumError(f"{path}: 'jp' must be a whole number of at least 1 (1 JP = {JP_MINUTES} minutes)")
    basis = data.get("jp_basis")
    if not isinstance(basis, dict):
        raise CurriculumError(f"{path}: 'jp_basis' is required: a mapping with 'total_minutes' and its parts")
    total = basis.get("total_minutes")
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise CurriculumError(f"{path}: 'jp_basis.total_minutes' must be a whole number of at least 1")
    parts = {k: v for k, v in basis.items() if k.endswith("_minutes") and k != "total_minutes" and "_per_" not in k}
    for name, value in parts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CurriculumError(f"{path}: 'jp_basis.{name}' must be a whole number of minutes")
    if parts and sum(parts.values()) != total:
        raise CurriculumError(
            f"{path}: 'jp_basis' parts ({', '.join(parts)}) add up to {sum(parts.values())} minutes, "
            f"but 'total_minutes' is {total}"
        )
    rounding = str(basis.get("rounding") or "")
    if "ke atas" in rounding and "terdekat" not in rounding:  # rounded up, as stated
        expected = math.ceil(total / JP_MINUTES)
    else:  # rounded to the nearest JP, half up
        expected = math.floor(total / JP_MINUTES + 0.5)
    if jp != expected:
        raise CurriculumError(
            f"{path}: 'jp' is {jp}, but 'jp_basis.total_minutes' ({total}) / {JP_MINUTES} rounds to {expected}"
        )
    audience = data.get("audience")
    if not isinstance(audience, str) or not audience.strip():
        raise CurriculumError(f"{path}: 'audience' is required: who the course is for")
    values = {
        "audience": " ".join(audience.split()),
        "jp": jp,
        "jp_basis": basis,
        "action_plan_required": False,
        "action_plan_title": "",
        "action_plan_instructions": "",
    }
    plan = data.get("action_plan")
    if plan is None:
        return values
    if not isinstance(plan, dict):
        raise CurriculumError(f"{path}: 'action_plan' must be a mapping (required, title, instructions)")
    unknown = sorted(set(plan) - {"required", "title", "instructions"})
    if unknown:
        raise CurriculumError(
            f"{path}: 'action_plan' has unknown key(s) {', '.join(unknown)} (allowed: required, title, instructions)"
        )
    required = plan.get("required", True)
    if not isinstance(required, bool):
        raise CurriculumError(f"{path}: 'action_plan.required' must be true or false")
    for name in ("title", "instructions"):
        if not isinstance(plan.get(name), str) or not plan[name].strip():
            raise CurriculumError(f"{path}: 'action_plan.{name}' is required (a non-empty text)")
    if len(plan["title"].strip()) > 200:
        raise CurriculumError(f"{path}: 'action_plan.title' must be at most 200 characters")
    values.update(
        action_plan_required=required,
        action_plan_title=plan["title"].strip(),
        action_plan_instructions=plan["instructions"].strip() + "\n",
    )
    return values


def _read_module(module_dir: Path, order: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    path = module_dir / "module.yaml"
    data = read_yaml(path)
    module = {
        "key": require(data, "key", path),
        "order": order,
        "stage": require_one_of(require(data, "stage", path), "stage", Stage, path),
        "title": require(data, "title", path),
        "summary": str(data.get("summary") or "").strip(),
        "objectives": _objectives(data, path),
        "recap": require(data, "recap", path) + "\n",
        "references": _references(data, path),
    }
    lessons = []
    for lesson_order, filename in enumerate(require(data, "lessons", path, list), start=1):
        lesson_path = module_dir / str(filename)
        meta, body = read_markdown(lesson_path)
        lessons.append(
            {
                "key": require(meta, "key", lesson_path),
                "order": lesson_order,
                "title": require(meta, "title", lesson_path),
                "body": body,
            }
        )
    _unique_keys(lessons, path, "lesson")
    return module, lessons


@transaction.atomic
def curriculum_load(*, slug: str = "gcio", source_dir: Path | None = None) -> CurriculumReport:
    """Load or update one course from its curriculum folder.

    Side effects: creates or updates the course (and, through ``curriculum_course_loaded``
    receivers, other apps' settings for it, e.g. the certificate number prefix), its modules, lessons
    and (through ``curriculum_module_loaded`` receivers) their quizzes, matching rows by stable keys so
    ids, and therefore participants' progress, survive. Lessons no longer in the files are
    deleted, and whoever had done all the other lessons (and passed the quiz) of such a module
    then completes it, possibly completing the course (``course_completed``, once, after
    commit); completions are never taken back. Likewise, when the course stops requiring an action
    plan, whoever completed every module and only lacked the plan completes the course. The course's
    apparatus (audience, JP and its basis, action-plan settings) and each module's objectives, recap
    and references are checked with errors naming the file and key. Modules no longer in the files are kept and
    reported. Idempotent: a second load of unchanged files writes nothing. All or nothing: a malformed file raises
    ``CurriculumError`` and rolls everything back.
    """
    source_dir = Path(source_dir or Path(courses_setting("CURRICULUM_DIR")) / slug)
    path = source_dir / "course.yaml"
    data = read_yaml(path)
    report = CurriculumReport()
    if require(data, "slug", path) != slug:
        raise CurriculumError(f"{path}: slug is '{data['slug']}', expected '{slug}'")

    course_values = {
        "title": require(data, "title", path),
        "description": str(data.get("description") or "").strip(),
        "published": bool(data.get("published", False)),
        **_course_apparatus(data, path),
    }
    existing = Course.objects.select_for_update().filter(slug=slug).first()
    plan_was_required = bool(existing and existing.action_plan_required)
    course = sync_row(
        kind="course",
        instance=existing,
        values=course_values,
        create=lambda **values: Course.objects.create(slug=slug, **values),
        report=report,
    )
    curriculum_course_loaded.send(sender=Course, course=course, data=data, path=path, report=report)

    module_dirs = [source_dir / str(name) for name in require(data, "modules", path, list)]
    parsed = [_read_module(module_dir, order) for order, module_dir in enumerate(module_dirs, start=1)]
    _unique_keys([module for module, _ in parsed], path, "module")

    existing_modules = {m.key: m for m in course.modules.all()}
    modules = sync_children(
        kind="module",
        existing=existing_modules,
        wanted=[module for module, _ in parsed],
        create=lambda **values: Module.objects.create(course=course, **values),
        report=report,
    )
    for stale in sorted(set(existing_modules) - set(modules)):
        report.warnings.append(f"module '{stale}' is no longer in the files; it was kept")

    # Enrolments that may have become complete because lessons they had not done were removed.
    waiting: list[tuple[Module, list[int]]] = []
    for (module_values, lessons), module_dir in zip(parsed, module_dirs, strict=True):
        module = modules[module_values["key"]]
        # Lock before deleting, in the order of courses.locks (enrolments, then the lesson rows),
        # the order lesson_complete takes them, so a participant completing a lesson cannot deadlock us.
        sync_replace(
            kind="lesson",
            related=module.lessons,
            wanted=lessons,
            report=report,
            before=lambda module=module: waiting.append((module, _enrollments_lock_unfinished(module=module))),
        )
        curriculum_module_loaded.send(sender=Module, module=module, source_dir=module_dir, report=report)
    # After the receivers ran, so a quiz the files added to such a module is required as well.
    for module, enrollment_ids in waiting:
        report.record("module progress", "completed", _modules_complete_if_done(module=module, ids=enrollment_ids))
    if plan_was_required and not course.action_plan_required:
        # Whoever completed every module and only waited for the plan has completed the course now.
        report.record("course progress", "completed", _courses_complete_without_plan(course=course))
    course_content_forget(course_id=course.pk)
    return report


def _courses_complete_without_plan(*, course: Course) -> int:
    """Complete the unfinished enrolments of ``course`` whose modules are all completed; return how many."""
    modules = course.modules.count()
    candidates = (
        Enrollment.objects.filter(cohort__course=course, completed_at__isnull=True)
        .annotate(done=Count("module_progress", filter=Q(module_progress__completed_at__isnull=False)))
        .filter(done__gte=modules)
        .values_list("pk", flat=True)
    )
    ids = list(candidates)
    if not ids:
        return 0
    now = timezone.now()
    return sum(
        _course_complete_if_done(enrollment=enrollment, now=now)
        for enrollment in enrollments_lock(Enrollment.objects.filter(pk__in=ids).select_related("cohort"))
    )


def _enrollments_lock_unfinished(*, module: Module) -> list[int]:
    """Lock and return the enrolments with started, unfinished progress in ``module`` (in id order)."""
    return list(
        enrollments_lock(
            Enrollment.objects.filter(module_progress__module=module, module_progress__completed_at__isnull=True)
        ).values_list("pk", flat=True)
    )
