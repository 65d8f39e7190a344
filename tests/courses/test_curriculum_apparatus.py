"""The course's apparatus from its files: audience, JP, objectives, recap, references, the action plan
settings — validated with errors naming the file and key, stored, shown, and reloaded without touching
anyone's progress or attempts."""

import re
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

from assessments.models import Answer, Attempt, Choice, Quiz
from assessments.services import attempt_start, attempt_submit
from courses.conf import courses_setting
from courses.curriculum import CurriculumError
from courses.models import ActionPlan, Course, Enrollment, LessonCompletion, Module, ModuleProgress
from courses.services import action_plan_submit, curriculum_load
from tests.courses.test_progress import finish_module
from tests.factories import CohortFactory, EnrollmentFactory, action_plan_values

pytestmark = pytest.mark.django_db

GCIO_DIR = Path(courses_setting("CURRICULUM_DIR")) / "gcio"


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def first_module_file(directory: Path) -> Path:
    return sorted(directory.glob("*/module.yaml"))[0]


def test_the_gcio_apparatus_is_stored():
    curriculum_load(slug="gcio")
    course = Course.objects.get(slug="gcio")
    data = yaml.safe_load((GCIO_DIR / "course.yaml").read_text(encoding="utf-8"))
    assert course.audience.startswith("Kepala Perangkat Daerah")
    assert course.jp == data["jp"] and course.jp_basis == data["jp_basis"]
    assert course.action_plan_required is True
    assert course.action_plan_title == data["action_plan"]["title"]
    assert course.action_plan_instructions.strip() == data["action_plan"]["instructions"].strip()
    for module in course.modules.all():
        files = next(
            yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in GCIO_DIR.glob("*/module.yaml")
            if f"key: {module.key}\n" in p.read_text(encoding="utf-8")
        )
        assert module.objectives == [" ".join(o.split()) for o in files["objectives"]]
        assert 3 <= len(module.objectives) <= 5
        assert module.recap.strip() == files["recap"].strip()
        assert [r["title"] for r in module.references] == [r["title"] for r in files["references"]]
        assert all({"author", "title"} <= set(r) for r in module.references)


def set_key(data: dict, dotted: str, value) -> None:
    *path, last = dotted.split(".")
    for name in path:
        data = data[name]
    if value is DELETE:
        del data[last]
    else:
        data[last] = value


class _Delete:
    """Marks a key to remove; its repr names it, so test ids are the same in every process."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()

COURSE_ERRORS = [
    ("audience", DELETE, "'audience' is required"),
    ("audience", "  ", "'audience' is required"),
    ("jp", DELETE, "'jp' must be a whole number of at least 1"),
    ("jp", 0, "'jp' must be a whole number of at least 1"),
    ("jp", "5", "'jp' must be a whole number of at least 1"),
    ("jp", 6, "'jp' is 6, but 'jp_basis.total_minutes' \\(244\\) / 45 rounds to 5"),
    ("jp_basis", DELETE, "'jp_basis' is required"),
    ("jp_basis.total_minutes", "244", "'jp_basis.total_minutes' must be a whole number"),
    ("jp_basis.quiz_minutes", 61, "parts (.*) add up to 245 minutes, but 'total_minutes' is 244"),
    ("action_plan", "tulis rencana", "'action_plan' must be a mapping"),
    ("action_plan.title", "", "'action_plan.title' is required"),
    ("action_plan.instructions", DELETE, "'action_plan.instructions' is required"),
    ("action_plan.required", "ya", "'action_plan.required' must be true or false"),
    ("action_plan.deadline", "2027-01-01", "'action_plan' has unknown key\\(s\\) deadline"),
]


@pytest.mark.parametrize(
    ("key", "value", "message"), COURSE_ERRORS, ids=[f"{k}={v!r}"[:40] for k, v, _ in COURSE_ERRORS]
)
def test_course_yaml_errors_name_the_file_and_key(gcio_copy: Path, key, value, message):
    edit_yaml(gcio_copy / "course.yaml", lambda data: set_key(data, key, value))
    with pytest.raises(CurriculumError, match=re.escape(str(gcio_copy / "course.yaml")) + ": .*" + message):
        curriculum_load(slug="gcio", source_dir=gcio_copy)
    assert not Course.objects.exists()


MODULE_ERRORS = [
    ("objectives", DELETE, "'objectives' must be a list of 3 to 5 learning objectives"),
    ("objectives", ["menjelaskan a", "menilai b"], "'objectives' must be a list of 3 to 5"),
    (
        "objectives",
        ["menjelaskan a", "menilai b", "merumuskan c", "membedakan d", "menganalisis e", "memilih f"],
        "'objectives' must be a list of 3 to 5",
    ),
    ("objectives", ["menjelaskan a", "", "merumuskan c"], "'objectives' item 2 must be a non-empty text"),
    ("objectives", ["menjelaskan a", 7, "merumuskan c"], "'objectives' item 2 must be a non-empty text"),
    (
        "objectives",
        ["menjelaskan a", "menilai b", "Setelah mempelajari modul ini, peserta mampu merumuskan c"],
        "'objectives' item 3 must continue \"Setelah mempelajari modul ini, peserta mampu …\"",
    ),
    ("objectives", ["Mampu menjelaskan a", "menilai b", "merumuskan c"], "'objectives' item 1 must continue"),
    ("recap", DELETE, "'recap' is required"),
    ("recap", "", "'recap' is required"),
    ("references", DELETE, "'references' must be a non-empty list"),
    ("references", [], "'references' must be a non-empty list"),
    ("references", ["Sri Wahyuni 2023"], "'references' item 1 must be a mapping"),
    ("references", [{"title": "Pidato"}], "'references' item 1 needs 'author'"),
    ("references", [{"author": "Sri Wahyuni", "title": " "}], "'references' item 1 needs 'title'"),
    ("references", [{"author": "A", "title": "B", "url": "x"}], "'references' item 1 has unknown key\\(s\\) url"),
    ("references", [{"author": "A", "title": "B", "year": True}], "'references' item 1: 'year' must be a year"),
    ("references", [{"author": "A", "title": "B", "note": ["x"]}], "'references' item 1: 'note' must be a text"),
]


@pytest.mark.parametrize(
    ("key", "value", "message"), MODULE_ERRORS, ids=[f"{k}-{n}" for n, (k, _, _m) in enumerate(MODULE_ERRORS)]
)
def test_module_yaml_errors_name_the_file_and_key(gcio_copy: Path, key, value, message):
    module_file = first_module_file(gcio_copy)
    edit_yaml(module_file, lambda data: set_key(data, key, value))
    with pytest.raises(CurriculumError, match=re.escape(str(module_file)) + ": " + message):
        curriculum_load(slug="gcio", source_dir=gcio_copy)
    assert not Course.objects.exists() and not Module.objects.exists()


def test_a_question_naming_a_lesson_of_another_module_is_an_error(gcio_copy: Path):
    """Checked by the quiz loader (assessments), through the same load: the error names quiz.yaml."""
    second_lesson_key = "memahami-kepemimpinan-digital"  # a lesson of module 2
    quiz_file = sorted(gcio_copy.glob("*/quiz.yaml"))[0]
    edit_yaml(quiz_file, lambda data: data["questions"][0].update(lesson=second_lesson_key))
    with pytest.raises(
        CurriculumError, match=re.escape(str(quiz_file)) + f".*lesson '{second_lesson_key}' is not a lesson"
    ):
        curriculum_load(slug="gcio", source_dir=gcio_copy)
    assert not Course.objects.exists()


def test_a_draw_larger_than_the_bank_is_an_error(gcio_copy: Path):
    quiz_file = sorted(gcio_copy.glob("*/quiz.yaml"))[0]
    edit_yaml(quiz_file, lambda data: data.update(draw=len(data["questions"]) + 1))
    with pytest.raises(CurriculumError, match=re.escape(str(quiz_file)) + ": draw must be a whole number"):
        curriculum_load(slug="gcio", source_dir=gcio_copy)


def test_an_action_plan_may_be_optional_or_absent(gcio_copy: Path):
    edit_yaml(gcio_copy / "course.yaml", lambda data: data["action_plan"].update(required=False))
    curriculum_load(slug="gcio", source_dir=gcio_copy)
    course = Course.objects.get(slug="gcio")
    assert course.action_plan_required is False and course.action_plan_title
    edit_yaml(gcio_copy / "course.yaml", lambda data: data.pop("action_plan"))
    curriculum_load(slug="gcio", source_dir=gcio_copy)
    course.refresh_from_db()
    assert (course.action_plan_required, course.action_plan_title, course.action_plan_instructions) == (False, "", "")


def rows(*models) -> dict:
    return {model.__name__: sorted(model.objects.values_list(), key=lambda row: row[0]) for model in models}


def test_reloading_changed_apparatus_keeps_progress_attempts_and_plans(gcio_copy: Path):
    curriculum_load(slug="gcio", source_dir=gcio_copy)
    cohort = CohortFactory(course=Course.objects.get(slug="gcio"))
    first, second, *_ = Module.objects.filter(course__slug="gcio").order_by("order")
    done, trying = EnrollmentFactory.create_batch(2, cohort=cohort)
    # Real progress: one participant finished module 1, started module 2 and wrote a plan; the
    # other read module 1 and has a failed and an open attempt at its quiz.
    finish_module(done, first)
    lesson_complete_first_two(done, second)
    action_plan_submit(enrollment=done, **action_plan_values())
    for lesson in first.lessons.all():
        from courses.services import lesson_complete

        lesson_complete(enrollment=trying, lesson=lesson)
    quiz = Quiz.objects.get(module=first)
    failed = attempt_start(user=trying.participant.user, quiz=quiz).attempt
    # A drawn question that has a wrong choice (a multiple-answer question may have every choice right).
    wrong = Choice.objects.filter(question_id__in=failed.question_order, is_correct=False).first()
    question_id = wrong.question_id
    attempt_submit(attempt=failed, answers=[{"question": question_id, "choices": [wrong.pk]}])
    attempt_start(user=trying.participant.user, quiz=quiz)
    before = rows(Enrollment, LessonCompletion, ModuleProgress, Attempt, Answer, ActionPlan)
    assert len(before["Attempt"]) == 2 and len(before["Answer"]) >= 1 and len(before["ActionPlan"]) == 1

    def change_course(data):
        data["audience"] = "Kepala Perangkat Daerah di Kalimantan Timur."
        data["action_plan"]["title"] = "Rencana Aksi Perubahan"

    edit_yaml(gcio_copy / "course.yaml", change_course)
    edit_yaml(first_module_file(gcio_copy), lambda data: data["objectives"].__setitem__(-1, "memilih langkah pertama"))
    report = curriculum_load(slug="gcio", source_dir=gcio_copy)

    assert report.counts["course"] == {"updated": 1} and report.counts["module"]["updated"] == 1
    course = Course.objects.get(slug="gcio")
    assert course.audience == "Kepala Perangkat Daerah di Kalimantan Timur."
    assert course.action_plan_title == "Rencana Aksi Perubahan"
    assert Module.objects.get(pk=first.pk).objectives[-1] == "memilih langkah pertama"
    assert rows(Enrollment, LessonCompletion, ModuleProgress, Attempt, Answer, ActionPlan) == before
    assert not curriculum_load(slug="gcio", source_dir=gcio_copy).changed


def lesson_complete_first_two(enrollment, module):
    from courses.services import lesson_complete

    for lesson in module.lessons.order_by("order")[:2]:
        lesson_complete(enrollment=enrollment, lesson=lesson)


# --- pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "framing", "jp_words"),
    [
        ("id", "Setelah mempelajari modul ini, peserta mampu:", "244 menit"),
        ("en", "After studying this module, participants are able to:", "244 minutes"),
    ],
)
def test_the_course_page_shows_audience_objectives_and_jp(client, language, framing, jp_words):
    curriculum_load(slug="gcio")
    course = Course.objects.get(slug="gcio")
    html = client.get(reverse("courses:course-detail", args=["gcio"]), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert course.audience in html
    assert html.count(framing) == 4
    for module in course.modules.all():
        for objective in module.objectives:
            assert objective in html
    jp_line = next(line for line in html.splitlines() if 'class="jp"' in line)
    assert "5 JP" in jp_line and jp_words in jp_line and "45" in jp_line and "97" in jp_line


def test_the_module_opens_with_its_objectives_and_closes_with_recap_and_references(client):
    curriculum_load(slug="gcio")
    module = Module.objects.filter(course__slug="gcio").order_by("order").first()
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=module.course))
    client.force_login(enrollment.participant.user)
    lessons = list(module.lessons.order_by("order"))
    first = client.get(reverse("courses:lesson", args=[lessons[0].pk]), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    middle = client.get(reverse("courses:lesson", args=[lessons[1].pk])).content.decode()
    last = client.get(reverse("courses:lesson", args=[lessons[-1].pk]), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert module.objectives[0] in first and first.index(module.objectives[0]) < first.index(lessons[0].title + "</h1>")
    assert module.objectives[0] not in middle and module.references[0]["title"] not in middle
    assert "Rangkuman" in last and module.references[0]["title"] in last
    assert last.index("</article>") < last.index("Rangkuman") < last.index(module.references[0]["title"])
    assert module.objectives[0] not in last


def test_the_participants_course_page_shows_objectives_and_the_action_plan(client):
    curriculum_load(slug="gcio")
    course = Course.objects.get(slug="gcio")
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    client.force_login(enrollment.participant.user)
    html = client.get(reverse("courses:enrollment", args=[enrollment.pk]), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert course.modules.order_by("order").first().objectives[0] in html
    assert course.action_plan_title in html and reverse("courses:action-plan", args=[enrollment.pk]) in html


def test_the_course_api_carries_audience_jp_and_objectives(api_client):
    curriculum_load(slug="gcio")
    course = Course.objects.get(slug="gcio")
    api_client.force_authenticate(EnrollmentFactory(cohort=CohortFactory(course=course)).participant.user)
    body = api_client.get("/api/v1/courses/gcio/").json()
    assert (body["audience"], body["jp"], body["action_plan_required"]) == (course.audience, 5, True)
    first = course.modules.order_by("order").first()
    assert body["modules"][0]["objectives"] == first.objectives


def test_a_plan_no_longer_required_completes_those_who_waited_for_it(
    gcio_copy: Path, django_capture_on_commit_callbacks
):
    from courses.signals import course_completed

    curriculum_load(slug="gcio", source_dir=gcio_copy)
    cohort = CohortFactory(course=Course.objects.get(slug="gcio"))
    waiting, halfway = EnrollmentFactory.create_batch(2, cohort=cohort)
    modules = list(Module.objects.filter(course__slug="gcio").order_by("order"))
    for module in modules:
        finish_module(waiting, module)
    finish_module(halfway, modules[0])
    assert Enrollment.objects.get(pk=waiting.pk).completed_at is None
    received = []
    course_completed.connect(
        lambda sender, enrollment_id, **kw: received.append(enrollment_id), weak=False, dispatch_uid="test-apparatus"
    )
    try:
        edit_yaml(gcio_copy / "course.yaml", lambda data: data["action_plan"].update(required=False))
        with django_capture_on_commit_callbacks(execute=True):
            report = curriculum_load(slug="gcio", source_dir=gcio_copy)
        with django_capture_on_commit_callbacks(execute=True):
            curriculum_load(slug="gcio", source_dir=gcio_copy)
    finally:
        course_completed.disconnect(dispatch_uid="test-apparatus")
    assert report.counts["course progress"] == {"completed": 1}
    assert received == [waiting.pk]
    assert Enrollment.objects.get(pk=waiting.pk).completed_at is not None
    assert Enrollment.objects.get(pk=halfway.pk).completed_at is None
