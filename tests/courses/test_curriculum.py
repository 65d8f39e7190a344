"""loadcurriculum: the GCIO content, idempotence, the update path, malformed files."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assessments.models import Choice, Question, QuestionKind, Quiz
from courses.models import Course, Enrollment, Lesson, LessonCompletion, Module, ModuleProgress, Stage
from courses.services import curriculum_load, lesson_complete, quiz_result_record
from tests.courses.test_progress import finish_module, percent, states
from tests.factories import CohortFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    """Every content row with its id and all its fields."""
    return {
        model.__name__: sorted(model.objects.values_list(), key=lambda row: row[0])
        for model in (Course, Module, Lesson, Quiz, Question, Choice)
    }


def test_gcio_course_has_four_modules_in_stage_order_with_lessons_and_quizzes():
    call_command("loadcurriculum", stdout=StringIO())
    course = Course.objects.get(slug="gcio")
    assert course.published is True
    assert course.certificate_settings.number_prefix == "GCIO-KALTIM"
    modules = list(course.modules.order_by("order"))
    assert [m.stage for m in modules] == [
        Stage.TRANSFORMATION,
        Stage.LEADERSHIP,
        Stage.IMPLEMENTATION,
        Stage.ATTENTION,
    ]
    assert [m.order for m in modules] == [1, 2, 3, 4]
    for module in modules:
        assert module.lessons.count() >= 3
        assert all(len(lesson.body.split()) >= 150 for lesson in module.lessons.all())
        quiz = Quiz.objects.get(module=module)
        questions = list(quiz.questions.prefetch_related("choices"))
        assert len(questions) >= 6
        assert {q.kind for q in questions} == set(QuestionKind.values)
        for question in questions:
            assert question.explanation.strip()
            correct = [c for c in question.choices.all() if c.is_correct]
            if question.kind == QuestionKind.MULTIPLE:
                assert len(correct) >= 1
            else:
                assert len(correct) == 1
            if question.kind == QuestionKind.TRUE_FALSE:
                assert question.choices.count() == 2


def test_loading_twice_changes_nothing():
    curriculum_load(slug="gcio")
    before = snapshot()
    out = StringIO()
    call_command("loadcurriculum", stdout=out)
    assert snapshot() == before
    assert "already up to date" in out.getvalue()
    assert "created" not in out.getvalue() and "updated" not in out.getvalue()


def progress_snapshot() -> dict:
    """Every progress row with its id and all its fields."""
    return {
        model.__name__: sorted(model.objects.values_list(), key=lambda row: row[0])
        for model in (Enrollment, LessonCompletion, ModuleProgress)
    }


def gcio_modules() -> list[Module]:
    return list(Module.objects.filter(course__slug="gcio").order_by("order"))


def test_editing_a_lesson_updates_only_that_lesson_and_keeps_its_id(gcio_copy: Path):
    curriculum_load(slug="gcio", source_dir=gcio_copy)
    # Real progress first: the first module completed, two lessons of the second done.
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=Course.objects.get(slug="gcio")))
    first, second, *_ = gcio_modules()
    finish_module(enrollment, first, score=85)
    for lesson in second.lessons.order_by("order")[:2]:
        lesson_complete(enrollment=enrollment, lesson=lesson)
    progress_before = progress_snapshot()
    assert len(progress_before["LessonCompletion"]) == first.lessons.count() + 2
    assert len(progress_before["ModuleProgress"]) == 2  # the completed first module, the started second
    assert states(enrollment) == ["completed", "available", "locked", "locked"]
    assert percent(enrollment) == 32  # 8 of 25 items
    lesson_ids_before = set(Lesson.objects.values_list("pk", flat=True))
    before = snapshot()
    lesson = Lesson.objects.filter(module__course__slug="gcio").order_by("module__order", "order").first()
    lesson_file = next(
        path for path in gcio_copy.rglob("*.md") if f"key: {lesson.key}" in path.read_text(encoding="utf-8")
    )
    text = lesson_file.read_text(encoding="utf-8")
    lesson_file.write_text(
        text.replace("title:", 'title: "Judul Baru"\nold_title:', 1) + "\nParagraf tambahan.\n", encoding="utf-8"
    )

    report = curriculum_load(slug="gcio", source_dir=gcio_copy)

    assert report.counts["lesson"]["updated"] == 1
    assert report.counts["lesson"].get("created", 0) == 0
    edited = Lesson.objects.get(pk=lesson.pk)
    assert edited.title == "Judul Baru"
    assert edited.body.rstrip().endswith("Paragraf tambahan.")
    after = snapshot()
    changed_lessons = [row for row in after["Lesson"] if row not in before["Lesson"]]
    assert [row[0] for row in changed_lessons] == [lesson.pk]
    for name in ("Course", "Module", "Quiz", "Question", "Choice"):
        assert after[name] == before[name]
    assert set(Lesson.objects.values_list("pk", flat=True)) == lesson_ids_before
    assert progress_snapshot() == progress_before
    assert states(enrollment) == ["completed", "available", "locked", "locked"]
    assert percent(enrollment) == 32


def drop_last_lesson(gcio_copy: Path, module: Module) -> Lesson:
    """Remove the module's last lesson from its module.yaml; return that lesson."""
    import yaml

    module_file = next(
        path for path in gcio_copy.glob("*/module.yaml") if f"key: {module.key}\n" in path.read_text(encoding="utf-8")
    )
    data = yaml.safe_load(module_file.read_text(encoding="utf-8"))
    data["lessons"] = data["lessons"][:-1]
    module_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    removed = module.lessons.order_by("order").last()
    # Questions that named the removed lesson name none now (the loader refuses a missing lesson).
    quiz_file = module_file.with_name("quiz.yaml")
    quiz = yaml.safe_load(quiz_file.read_text(encoding="utf-8"))
    for question in quiz["questions"]:
        if question.get("lesson") == removed.key:
            del question["lesson"]
    quiz_file.write_text(yaml.safe_dump(quiz, allow_unicode=True), encoding="utf-8")
    return removed


def do_all_but_the_last_lesson_and_pass(enrollment, module: Module) -> None:
    for lesson in module.lessons.order_by("order")[: module.lessons.count() - 1]:
        lesson_complete(enrollment=enrollment, lesson=lesson)
    quiz_result_record(enrollment=enrollment, module=module, score_percent=90, passed=True)


def test_removing_the_only_lesson_left_undone_completes_the_module(
    gcio_copy: Path, signals, django_capture_on_commit_callbacks
):
    curriculum_load(slug="gcio", source_dir=gcio_copy)
    cohort = CohortFactory(course=Course.objects.get(slug="gcio"))
    first, *_ = gcio_modules()
    stuck, not_passed, not_read, done = EnrollmentFactory.create_batch(4, cohort=cohort)
    do_all_but_the_last_lesson_and_pass(stuck, first)
    for lesson in first.lessons.order_by("order")[: first.lessons.count() - 1]:
        lesson_complete(enrollment=not_passed, lesson=lesson)
    quiz_result_record(enrollment=not_passed, module=first, score_percent=40, passed=False)
    lesson_complete(enrollment=not_read, lesson=first.lessons.order_by("order").first())
    quiz_result_record(enrollment=not_read, module=first, score_percent=90, passed=True)
    finish_module(done, first)
    done_at = ModuleProgress.objects.get(enrollment=done, module=first).completed_at
    assert states(stuck)[0] == "available" and percent(stuck) == 20  # 5 of 25 items
    removed = drop_last_lesson(gcio_copy, first)

    with django_capture_on_commit_callbacks(execute=True):
        report = curriculum_load(slug="gcio", source_dir=gcio_copy)

    assert report.counts["lesson"]["deleted"] == 1
    assert report.counts["module progress"]["completed"] == 1
    assert not Lesson.objects.filter(pk=removed.pk).exists()
    assert states(stuck) == ["completed", "available", "locked", "locked"]
    assert states(not_passed) == states(not_read) == ["available", "locked", "locked", "locked"]
    assert ModuleProgress.objects.get(enrollment=done, module=first).completed_at == done_at
    assert signals == []  # a module, not the course
    assert Enrollment.objects.filter(completed_at__isnull=False).count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        again = curriculum_load(slug="gcio", source_dir=gcio_copy)
    assert "module progress" not in again.counts and not again.changed


def action_plan_not_required(gcio_copy: Path) -> None:
    """The course as loaded from ``gcio_copy`` completes with its modules alone (no action plan needed)."""
    course_file = gcio_copy / "course.yaml"
    text = course_file.read_text(encoding="utf-8")
    course_file.write_text(text.replace("action_plan:\n", "action_plan:\n  required: false\n", 1), encoding="utf-8")


def test_removing_the_last_lesson_left_undone_completes_the_course_once(
    gcio_copy: Path, signals, django_capture_on_commit_callbacks
):
    action_plan_not_required(gcio_copy)
    curriculum_load(slug="gcio", source_dir=gcio_copy)
    assert Course.objects.get(slug="gcio").action_plan_required is False
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=Course.objects.get(slug="gcio")))
    *first_three, last = gcio_modules()
    for module in first_three:
        finish_module(enrollment, module)
    do_all_but_the_last_lesson_and_pass(enrollment, last)
    assert states(enrollment)[-1] == "available" and percent(enrollment) == 96  # 24 of 25 items
    drop_last_lesson(gcio_copy, last)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        curriculum_load(slug="gcio", source_dir=gcio_copy)

    assert signals == [enrollment.pk]
    enrollment.refresh_from_db()
    completed_at = enrollment.completed_at
    assert completed_at is not None and percent(enrollment) == 100
    assert states(enrollment) == ["completed"] * 4
    assert len(callbacks) >= 1

    # Loading again, or removing yet another lesson, never sends it a second time.
    drop_last_lesson(gcio_copy, last)
    with django_capture_on_commit_callbacks(execute=True):
        curriculum_load(slug="gcio", source_dir=gcio_copy)
        curriculum_load(slug="gcio", source_dir=gcio_copy)
    assert signals == [enrollment.pk]
    assert Enrollment.objects.get(pk=enrollment.pk).completed_at == completed_at


def test_reordering_and_removing_questions_keeps_ids_of_the_rest(gcio_copy: Path):
    import yaml

    curriculum_load(slug="gcio", source_dir=gcio_copy)
    quiz_file = sorted(gcio_copy.glob("*/quiz.yaml"))[0]
    data = yaml.safe_load(quiz_file.read_text(encoding="utf-8"))
    first, second = data["questions"][0], data["questions"][1]
    quiz = Quiz.objects.get(title=data["title"])
    ids = {q.key: q.pk for q in quiz.questions.all()}
    data["questions"] = [second] + data["questions"][2:]  # drop the first, move the second up
    quiz_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    report = curriculum_load(slug="gcio", source_dir=gcio_copy)

    assert report.counts["question"]["deleted"] == 1
    assert not Question.objects.filter(pk=ids[first["key"]]).exists()
    moved = Question.objects.get(pk=ids[second["key"]])
    assert moved.order == 1


def test_a_malformed_file_rolls_back_everything(gcio_copy: Path):
    curriculum_load(slug="gcio", source_dir=gcio_copy)
    before = snapshot()
    lesson_file = sorted(gcio_copy.rglob("*.md"))[0]
    lesson_file.write_text(lesson_file.read_text(encoding="utf-8") + "\nDiubah.\n", encoding="utf-8")
    quiz_file = sorted(gcio_copy.glob("*/quiz.yaml"))[-1]
    quiz_file.write_text(
        quiz_file.read_text(encoding="utf-8").replace("kind: single", "kind: essay", 1), encoding="utf-8"
    )

    with pytest.raises(CommandError, match="kind must be one of"):
        call_command("loadcurriculum", "--source", str(gcio_copy), stdout=StringIO())

    assert snapshot() == before


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: (d / "course.yaml").write_text("slug: gcio\n", encoding="utf-8"), "'title' is required"),
        (lambda d: (d / "course.yaml").write_text("- a list\n", encoding="utf-8"), "expected a mapping"),
        (lambda d: (d / "course.yaml").write_bytes(b"\xff\xfe\x00bad"), "cannot be read as UTF-8 YAML"),
        (lambda d: shutil.rmtree(sorted(p for p in d.iterdir() if p.is_dir())[0]), "file not found"),
    ],
)
def test_malformed_curriculum_reports_the_file(gcio_copy: Path, mutate, message):
    mutate(gcio_copy)
    with pytest.raises(CommandError, match=message):
        call_command("loadcurriculum", "--source", str(gcio_copy), stdout=StringIO())
    assert not Course.objects.exists()
