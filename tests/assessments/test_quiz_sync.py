"""Loading quiz.yaml: questions tied to the module's lessons, and the quiz's review setting."""

import shutil
from pathlib import Path

import pytest
import yaml

from assessments.models import Question, Quiz, ReviewPolicy
from assessments.services import quiz_sync
from courses.conf import courses_setting
from courses.curriculum import CurriculumError, CurriculumReport, read_markdown
from courses.models import Lesson, Module
from courses.services import curriculum_load
from tests.factories import LessonFactory, ModuleFactory

pytestmark = pytest.mark.django_db


def quiz_data(*, first_lesson=None, **quiz_fields) -> dict:
    first = {
        "key": "satu",
        "kind": "true_false",
        "text": "Pernyataan pertama.",
        "explanation": "Karena pertama.",
        "choices": [{"key": "benar", "text": "Benar", "correct": True}, {"key": "salah", "text": "Salah"}],
    }
    if first_lesson is not None:
        first["lesson"] = first_lesson
    second = {
        "key": "dua",
        "kind": "single",
        "text": "Pertanyaan kedua?",
        "explanation": "Karena kedua.",
        "choices": [{"key": "a", "text": "A", "correct": True}, {"key": "b", "text": "B"}],
    }
    return {"title": "Kuis", "allow_review": True, **quiz_fields, "questions": [first, second]}


@pytest.fixture
def module() -> Module:
    module = ModuleFactory(key="modul-satu")
    LessonFactory(module=module, key="pengantar", order=1)
    LessonFactory(module=module, key="praktik", order=2)
    return module


def sync(module: Module, tmp_path: Path, data: dict) -> CurriculumReport:
    path = tmp_path / "quiz.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    report = CurriculumReport()
    quiz_sync(module=module, path=path, report=report)
    return report


def lessons_of_questions() -> dict[str, str | None]:
    return {q.key: q.lesson.key if q.lesson else None for q in Question.objects.select_related("lesson")}


def test_a_lesson_key_ties_the_question_to_that_lesson_of_the_module(module, tmp_path):
    sync(module, tmp_path, quiz_data(first_lesson="praktik"))
    assert lessons_of_questions() == {"satu": "praktik", "dua": None}
    ids = dict(Question.objects.values_list("key", "pk"))

    again = sync(module, tmp_path, quiz_data(first_lesson="praktik"))
    assert not again.changed

    moved = sync(module, tmp_path, quiz_data(first_lesson="pengantar"))
    assert moved.counts["question"] == {"updated": 1, "unchanged": 1}
    assert lessons_of_questions() == {"satu": "pengantar", "dua": None}
    sync(module, tmp_path, quiz_data())
    assert lessons_of_questions() == {"satu": None, "dua": None}
    assert dict(Question.objects.values_list("key", "pk")) == ids


@pytest.mark.parametrize("lesson", ["tidak-ada", "lain", ["praktik"]])
def test_a_lesson_key_naming_no_lesson_of_the_module_is_an_error_naming_file_and_question(module, tmp_path, lesson):
    LessonFactory(key="lain")  # a lesson of another module
    with pytest.raises(CurriculumError) as error:
        sync(module, tmp_path, quiz_data(first_lesson=lesson))
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'quiz.yaml'} question 1 ('satu'): ")
    assert "modul-satu" in message and "pengantar, praktik" in message
    assert not Quiz.objects.exists() and not Question.objects.exists()


def test_a_lesson_removed_from_the_module_while_a_question_names_it_is_an_error(module, tmp_path):
    sync(module, tmp_path, quiz_data(first_lesson="praktik"))
    Lesson.objects.filter(key="praktik").delete()
    assert lessons_of_questions() == {"satu": None, "dua": None}  # SET_NULL: the question stays
    with pytest.raises(CurriculumError, match=r"question 1 \('satu'\): lesson 'praktik' is not a lesson of module"):
        sync(module, tmp_path, quiz_data(first_lesson="praktik"))


def test_the_review_setting_defaults_to_after_the_final_attempt(module, tmp_path):
    sync(module, tmp_path, quiz_data())
    assert Quiz.objects.get().review == ReviewPolicy.AFTER_FINAL
    sync(module, tmp_path, quiz_data(review="after_pass"))
    assert Quiz.objects.get().review == ReviewPolicy.AFTER_PASS


@pytest.mark.parametrize("value", ["always", "never", 1])
def test_an_unknown_review_setting_is_an_error(module, tmp_path, value):
    with pytest.raises(CurriculumError, match="review must be one of after_final, after_pass"):
        sync(module, tmp_path, quiz_data(review=value))
    assert not Quiz.objects.exists()


def test_loadcurriculum_ties_questions_to_the_lessons_loaded_with_them(tmp_path):
    source = tmp_path / "gcio"
    shutil.copytree(Path(courses_setting("CURRICULUM_DIR")) / "gcio", source)
    module_dir = sorted(p for p in source.iterdir() if p.is_dir())[0]
    lesson_file = yaml.safe_load((module_dir / "module.yaml").read_text(encoding="utf-8"))["lessons"][-1]
    lesson_key = read_markdown(module_dir / lesson_file)[0]["key"]
    data = yaml.safe_load((module_dir / "quiz.yaml").read_text(encoding="utf-8"))
    data["questions"][0]["lesson"] = lesson_key
    (module_dir / "quiz.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    curriculum_load(slug="gcio", source_dir=source)

    question = Question.objects.get(quiz__title=data["title"], key=data["questions"][0]["key"])
    assert (question.lesson.key, question.lesson.module.order) == (lesson_key, 1)
