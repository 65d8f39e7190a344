"""loadcurriculum: the GCIO content, idempotence, the update path, malformed files."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assessments.models import Choice, Question, QuestionKind, Quiz
from courses.conf import courses_setting
from courses.models import Course, Lesson, Module, Stage
from courses.services import curriculum_load

pytestmark = pytest.mark.django_db

GCIO_DIR = Path(courses_setting("CURRICULUM_DIR")) / "gcio"


@pytest.fixture
def gcio_copy(tmp_path: Path) -> Path:
    target = tmp_path / "gcio"
    shutil.copytree(GCIO_DIR, target)
    return target


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
    assert course.certificate_prefix == "GCIO-KALTIM"
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


def test_editing_a_lesson_updates_only_that_lesson_and_keeps_its_id(gcio_copy: Path):
    curriculum_load(slug="gcio", source_dir=gcio_copy)
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
