"""Loading a course from its curriculum files: course, modules, lessons, matched by stable keys."""

from pathlib import Path
from typing import Any

from django.db import transaction

from ..conf import courses_setting
from ..content_cache import course_content_forget
from ..curriculum import (
    CurriculumError,
    CurriculumReport,
    read_markdown,
    read_yaml,
    require,
    sync_children,
    sync_delete_missing,
    sync_row,
)
from ..locks import enrollments_lock
from ..models import Course, Enrollment, Lesson, Module, Stage
from ..signals import curriculum_course_loaded, curriculum_module_loaded
from .progress import _modules_complete_if_done


def _unique_keys(items: list[dict[str, Any]], where: Path, kind: str) -> None:
    keys = [item["key"] for item in items]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise CurriculumError(f"{where}: duplicate {kind} key(s): {', '.join(duplicates)}")


def _read_module(module_dir: Path, order: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    path = module_dir / "module.yaml"
    data = read_yaml(path)
    stage = require(data, "stage", path)
    if stage not in Stage.values:
        raise CurriculumError(f"{path}: stage must be one of {', '.join(Stage.values)}")
    module = {
        "key": require(data, "key", path),
        "order": order,
        "stage": stage,
        "title": require(data, "title", path),
        "summary": str(data.get("summary") or "").strip(),
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
    commit); completions are never taken back. Modules no longer in the files are kept and
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
    }
    course = sync_row(
        kind="course",
        instance=Course.objects.select_for_update().filter(slug=slug).first(),
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
        existing_lessons = {lesson.key: lesson for lesson in module.lessons.all()}
        kept = sync_children(
            kind="lesson",
            existing=existing_lessons,
            wanted=lessons,
            create=lambda module=module, **values: Lesson.objects.create(module=module, **values),
            report=report,
        )
        # Lock before deleting, in the order of courses.locks (enrolments, then the lesson rows),
        # the order lesson_complete takes them, so a participant completing a lesson cannot deadlock us.
        sync_delete_missing(
            kind="lesson",
            existing=existing_lessons,
            kept=kept,
            report=report,
            before=lambda module=module: waiting.append((module, _enrollments_lock_unfinished(module=module))),
        )
        curriculum_module_loaded.send(sender=Module, module=module, source_dir=module_dir, report=report)
    # After the receivers ran, so a quiz the files added to such a module is required as well.
    for module, enrollment_ids in waiting:
        report.record("module progress", "completed", _modules_complete_if_done(module=module, ids=enrollment_ids))
    course_content_forget(course_id=course.pk)
    return report


def _enrollments_lock_unfinished(*, module: Module) -> list[int]:
    """Lock and return the enrolments with started, unfinished progress in ``module`` (in id order)."""
    return list(
        enrollments_lock(
            Enrollment.objects.filter(module_progress__module=module, module_progress__completed_at__isnull=True)
        ).values_list("pk", flat=True)
    )
