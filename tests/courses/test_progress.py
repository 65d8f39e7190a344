"""Progress: the module state machine, completion once, arithmetic, curriculum edits, endpoints."""

import csv
import io
import json
import threading

import pytest
from django.db import connection

from courses.models import Enrollment, LessonCompletion, ModuleProgress
from courses.selectors import enrollments_progress
from courses.services import lesson_complete, quiz_result_record
from courses.signals import course_completed
from tests.factories import (
    CohortFactory,
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    ModuleFactory,
    ParticipantProfileFactory,
    QuestionFactory,
    course_with_modules,
)

pytestmark = pytest.mark.django_db
STAGES = ["transformation", "leadership", "implementation", "attention"]


@pytest.fixture
def course():
    """Four modules of two lessons and a quiz each: twelve items."""
    return course_with_modules(stages=STAGES, lessons=2)


def modules_of(course):
    return list(course.modules.order_by("order"))


def states(enrollment):
    (progress,) = enrollments_progress(Enrollment.objects.filter(pk=enrollment.pk))
    return [m.state for m in progress.modules]


def percent(enrollment):
    (progress,) = enrollments_progress(Enrollment.objects.filter(pk=enrollment.pk))
    return progress.progress_percent


def finish_module(enrollment, module, score=90):
    for lesson in module.lessons.all():
        lesson_complete(enrollment=enrollment, lesson=lesson)
    quiz_result_record(enrollment=enrollment, module=module, score_percent=score, passed=True)


# --- the state machine -------------------------------------------------------------------------


def test_first_module_is_available_on_enrollment_and_the_rest_locked(enrollment):
    assert states(enrollment) == ["available", "locked", "locked", "locked"]
    assert percent(enrollment) == 0


def test_lessons_alone_do_not_complete_a_module_with_a_quiz(enrollment, course):
    first = modules_of(course)[0]
    for lesson in first.lessons.all():
        lesson_complete(enrollment=enrollment, lesson=lesson)
    assert states(enrollment) == ["available", "locked", "locked", "locked"]


def test_a_passed_quiz_alone_does_not_complete_a_module(enrollment, course):
    first = modules_of(course)[0]
    quiz_result_record(enrollment=enrollment, module=first, score_percent=100, passed=True)
    assert states(enrollment) == ["available", "locked", "locked", "locked"]
    lesson_complete(enrollment=enrollment, lesson=first.lessons.first())
    assert states(enrollment)[0] == "available"
    lesson_complete(enrollment=enrollment, lesson=first.lessons.last())
    assert states(enrollment) == ["completed", "available", "locked", "locked"]


def test_a_failed_quiz_keeps_the_module_open_and_records_the_best_score(enrollment, course):
    first = modules_of(course)[0]
    for lesson in first.lessons.all():
        lesson_complete(enrollment=enrollment, lesson=lesson)
    quiz_result_record(enrollment=enrollment, module=first, score_percent=40, passed=False)
    quiz_result_record(enrollment=enrollment, module=first, score_percent=20, passed=False)
    record = ModuleProgress.objects.get(enrollment=enrollment, module=first)
    assert (record.best_score, record.quiz_passed_at, record.completed_at) == (40, None, None)
    quiz_result_record(enrollment=enrollment, module=first, score_percent=80, passed=True)
    record.refresh_from_db()
    assert record.best_score == 80 and record.completed_at is not None


def test_the_unlock_chain_runs_module_by_module(enrollment, course):
    expected = [
        ["completed", "available", "locked", "locked"],
        ["completed", "completed", "available", "locked"],
        ["completed", "completed", "completed", "available"],
        ["completed", "completed", "completed", "completed"],
    ]
    for module, after in zip(modules_of(course), expected, strict=True):
        finish_module(enrollment, module)
        assert states(enrollment) == after


def test_a_module_without_quiz_completes_with_its_lessons(enrollment, course):
    extra = ModuleFactory(course=course, order=5, stage="attention")
    lesson = LessonFactory(module=extra)
    for module in modules_of(course)[:4]:
        finish_module(enrollment, module)
    assert states(enrollment)[-1] == "available"
    lesson_complete(enrollment=enrollment, lesson=lesson)
    assert states(enrollment)[-1] == "completed"
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None


def test_locked_lesson_is_refused_and_nothing_is_written(enrollment, course):
    from courses.errors import ModuleLocked

    second = modules_of(course)[1]
    with pytest.raises(ModuleLocked):
        lesson_complete(enrollment=enrollment, lesson=second.lessons.first())
    assert not LessonCompletion.objects.exists()


# --- completion once -------------------------------------------------------------------------------


def test_completing_the_course_sets_completed_at_and_signals_once(
    enrollment, course, signals, django_capture_on_commit_callbacks
):
    *first_three, last = modules_of(course)
    for module in first_three:
        finish_module(enrollment, module)
    assert signals == []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        finish_module(enrollment, last)
    assert signals == []  # not before commit
    for callback in callbacks:
        callback()
    assert signals == [enrollment.pk]
    enrollment.refresh_from_db()
    completed_at = enrollment.completed_at
    assert completed_at is not None and percent(enrollment) == 100
    with django_capture_on_commit_callbacks(execute=True):
        finish_module(enrollment, last)
        lesson_complete(enrollment=enrollment, lesson=last.lessons.first())
    assert signals == [enrollment.pk]
    enrollment.refresh_from_db()
    assert enrollment.completed_at == completed_at


def test_a_failing_receiver_neither_breaks_completion_nor_starves_the_others(
    enrollment, course, django_capture_on_commit_callbacks, caplog
):
    received = []

    def broken(sender, enrollment_id, **kwargs):
        raise RuntimeError("receiver down")

    def working(sender, enrollment_id, **kwargs):
        received.append(enrollment_id)

    *first_three, last = modules_of(course)
    for module in first_three:
        finish_module(enrollment, module)
    quiz_result_record(enrollment=enrollment, module=last, score_percent=90, passed=True)
    first_lesson, last_lesson = list(last.lessons.order_by("order"))
    lesson_complete(enrollment=enrollment, lesson=first_lesson)
    # Connected in this order, a plain send() would raise before reaching the working receiver.
    course_completed.connect(broken, dispatch_uid="test-broken")
    course_completed.connect(working, dispatch_uid="test-working")
    try:
        with caplog.at_level("ERROR", logger="courses.services"):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                assert lesson_complete(enrollment=enrollment, lesson=last_lesson) is True
    finally:
        course_completed.disconnect(dispatch_uid="test-broken")
        course_completed.disconnect(dispatch_uid="test-working")
    assert len(callbacks) >= 1
    assert received == [enrollment.pk]
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None and percent(enrollment) == 100
    (record,) = [r for r in caplog.records if r.name == "courses.services"]
    assert record.levelname == "ERROR"
    assert record.getMessage().startswith("course_completed receiver ")
    assert record.getMessage().endswith(f" failed for enrolment {enrollment.pk}")
    assert record.exc_info[0] is RuntimeError and str(record.exc_info[1]) == "receiver down"


def test_completing_a_lesson_twice_is_idempotent(api_client, enrollment, course):
    lesson = modules_of(course)[0].lessons.first()
    api_client.force_authenticate(enrollment.participant.user)
    first = api_client.post(f"/api/v1/lessons/{lesson.pk}/complete/")
    second = api_client.post(f"/api/v1/lessons/{lesson.pk}/complete/")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert LessonCompletion.objects.filter(enrollment=enrollment, lesson=lesson).count() == 1


def run_concurrently(*actions) -> list[Exception]:
    """Run each action in its own thread and database connection, all released at once; their errors."""
    barrier = threading.Barrier(len(actions))
    errors: list[Exception] = []

    def run(action):
        try:
            barrier.wait()
            action()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_racing_completions_signal_once(course, signals):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    *first_three, last = modules_of(course)
    for module in first_three:
        finish_module(enrollment, module)
    first_lesson, last_lesson = list(last.lessons.order_by("order"))
    lesson_complete(enrollment=enrollment, lesson=first_lesson)
    quiz_result_record(enrollment=enrollment, module=last, score_percent=100, passed=True)
    complete_last = lambda: lesson_complete(enrollment=enrollment, lesson=last_lesson)  # noqa: E731
    assert run_concurrently(complete_last, complete_last) == []
    assert signals == [enrollment.pk]
    assert LessonCompletion.objects.filter(enrollment=enrollment, lesson=last_lesson).count() == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_last_lesson_and_the_quiz_pass_racing_complete_the_course_once(course, signals):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    *first_three, last = modules_of(course)
    for module in first_three:
        finish_module(enrollment, module)
    first_lesson, last_lesson = list(last.lessons.order_by("order"))
    lesson_complete(enrollment=enrollment, lesson=first_lesson)
    # Either event alone leaves the module short of the other; together, whichever commits second completes it.
    errors = run_concurrently(
        lambda: lesson_complete(enrollment=enrollment, lesson=last_lesson),
        lambda: quiz_result_record(enrollment=enrollment, module=last, score_percent=95, passed=True),
    )
    assert errors == []
    assert signals == [enrollment.pk]
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    assert ModuleProgress.objects.get(enrollment=enrollment, module=last).completed_at is not None


# --- arithmetic and curriculum edits --------------------------------------------------------------


def test_progress_percent_is_the_whole_percent_share_of_items(enrollment, course):
    first, second, *_ = modules_of(course)
    lesson_complete(enrollment=enrollment, lesson=first.lessons.first())
    assert percent(enrollment) == 8  # 1 of 12
    lesson_complete(enrollment=enrollment, lesson=first.lessons.last())
    assert percent(enrollment) == 16  # 2 of 12
    quiz_result_record(enrollment=enrollment, module=first, score_percent=75, passed=True)
    assert percent(enrollment) == 25  # 3 of 12
    finish_module(enrollment, second)
    assert percent(enrollment) == 50


def test_percent_is_never_100_before_the_course_is_completed(course):
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    modules = modules_of(course)
    for module in modules[:3]:
        finish_module(enrollment, module)
    for lesson in modules[3].lessons.all():
        lesson_complete(enrollment=enrollment, lesson=lesson)
    assert percent(enrollment) == 91  # 11 of 12
    big = CourseFactory()
    module = ModuleFactory(course=big, order=1)
    lessons = [LessonFactory(module=module, order=n) for n in range(1, 202)]
    other = EnrollmentFactory(cohort=CohortFactory(course=big))
    for lesson in lessons[:-1]:
        LessonCompletion.objects.create(enrollment=other, lesson=lesson)
    assert percent(other) == 99  # 200 of 201 rounds down, never up to 100


def test_a_new_lesson_does_not_take_back_a_completed_module(enrollment, course):
    first, second, *_ = modules_of(course)
    finish_module(enrollment, first)
    LessonFactory(module=first, order=3)
    assert states(enrollment)[:2] == ["completed", "available"]
    assert percent(enrollment) == 30  # the completed module counts whole: 4 of 13


def test_a_changed_quiz_does_not_take_back_a_completed_module(enrollment, course):
    first, *_ = modules_of(course)
    finish_module(enrollment, first, score=70)
    before = percent(enrollment)
    # The curriculum is edited: a harder pass mark and a new question.
    quiz = first.quiz
    quiz.pass_mark = 90
    quiz.save()
    QuestionFactory(quiz=quiz)
    assert states(enrollment)[:2] == ["completed", "available"]
    assert percent(enrollment) == before
    (progress,) = enrollments_progress(Enrollment.objects.filter(pk=enrollment.pk))
    assert progress.modules[0].best_score == 70


def test_an_in_progress_module_sees_the_new_lesson(enrollment, course):
    first = modules_of(course)[0]
    for lesson in first.lessons.all():
        lesson_complete(enrollment=enrollment, lesson=lesson)
    new = LessonFactory(module=first, order=3)
    quiz_result_record(enrollment=enrollment, module=first, score_percent=90, passed=True)
    assert states(enrollment)[0] == "available"
    lesson_complete(enrollment=enrollment, lesson=new)
    assert states(enrollment)[0] == "completed"


def test_a_completed_course_stays_completed_after_a_new_module(
    enrollment, course, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for module in modules_of(course):
            finish_module(enrollment, module)
    assert signals == [enrollment.pk]
    enrollment.refresh_from_db()
    new = ModuleFactory(course=course, order=5)
    assert percent(enrollment) == 100
    # Finishing the new module completes the course's modules again: still no second signal.
    with django_capture_on_commit_callbacks(execute=True):
        lesson_complete(enrollment=enrollment, lesson=LessonFactory(module=new))
    assert ModuleProgress.objects.get(enrollment=enrollment, module=new).completed_at is not None
    assert signals == [enrollment.pk]
    assert percent(enrollment) == 100
    assert Enrollment.objects.get(pk=enrollment.pk).completed_at == enrollment.completed_at


# --- endpoints and permissions ---------------------------------------------------------------------


def test_lesson_endpoint_returns_html_and_refuses_locked_modules(api_client, enrollment, course):
    first, second, *_ = modules_of(course)
    api_client.force_authenticate(enrollment.participant.user)
    lesson = first.lessons.first()
    response = api_client.get(f"/api/v1/lessons/{lesson.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["title"], body["module"]) == (lesson.pk, lesson.title, first.pk)
    assert body["body_html"] == "<p>Some <strong>text</strong>.</p>"
    locked = api_client.get(f"/api/v1/lessons/{second.lessons.first().pk}/")
    assert locked.status_code == 403
    assert locked.json()["code"] == "module_locked" and locked.json()["detail"]
    refused = api_client.post(f"/api/v1/lessons/{second.lessons.first().pk}/complete/")
    assert refused.status_code == 403 and refused.json()["code"] == "module_locked"
    assert not LessonCompletion.objects.exists()


def test_lesson_body_is_sanitised(api_client, enrollment, course):
    lesson = modules_of(course)[0].lessons.first()
    lesson.body = "Hai <script>alert(1)</script> [x](javascript:alert(1))"
    lesson.save()
    api_client.force_authenticate(enrollment.participant.user)
    html = api_client.get(f"/api/v1/lessons/{lesson.pk}/").json()["body_html"]
    assert "<script" not in html and "javascript:" not in html


@pytest.mark.parametrize(
    "who, lesson_get, lesson_complete_status, me, progress",
    [
        ("anonymous", 401, 401, 401, 401),
        ("stranger", 403, 403, 200, 403),  # a participant not enrolled in this course
        ("participant", 200, 200, 200, 403),
        ("operator", 200, 403, 403, 200),
    ],
)
def test_permission_matrix(
    api_client, enrollment, course, operator, who, lesson_get, lesson_complete_status, me, progress
):
    user = {
        "anonymous": None,
        "stranger": ParticipantProfileFactory().user,
        "participant": enrollment.participant.user,
        "operator": operator,
    }[who]
    if user:
        api_client.force_authenticate(user)
    lesson = modules_of(course)[0].lessons.first()
    assert api_client.get(f"/api/v1/lessons/{lesson.pk}/").status_code == lesson_get
    assert api_client.post(f"/api/v1/lessons/{lesson.pk}/complete/").status_code == lesson_complete_status
    assert api_client.get("/api/v1/me/enrollments/").status_code == me
    assert api_client.get(f"/api/v1/cohorts/{enrollment.cohort_id}/progress/").status_code == progress
    if who != "participant":
        assert not LessonCompletion.objects.exists()


@pytest.mark.parametrize("who, status", [("anonymous", 401), ("participant", 403), ("operator", 404)])
@pytest.mark.parametrize("ask_csv", [{"HTTP_ACCEPT": "text/csv"}, {"QUERY_STRING": "format=csv"}])
def test_cohort_progress_refusals_stay_json_when_csv_is_asked_for(
    api_client, enrollment, operator, who, status, ask_csv
):
    user = {"anonymous": None, "participant": enrollment.participant.user, "operator": operator}[who]
    if user:
        api_client.force_authenticate(user)
    cohort_id = enrollment.cohort_id + 1000 if who == "operator" else enrollment.cohort_id  # operator: unknown id
    response = api_client.get(f"/api/v1/cohorts/{cohort_id}/progress/", **ask_csv)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail", "code"}


@pytest.mark.parametrize(
    "ask_file", [{"QUERY_STRING": "format=csv"}, {"QUERY_STRING": "format=xlsx"}, {"HTTP_ACCEPT": "text/csv"}]
)
def test_cohort_progress_options_answer_json_metadata_when_a_file_is_asked_for(
    api_client, enrollment, operator, ask_file
):
    api_client.force_authenticate(operator)
    plain = api_client.options(f"/api/v1/cohorts/{enrollment.cohort_id}/progress/")
    response = api_client.options(f"/api/v1/cohorts/{enrollment.cohort_id}/progress/", **ask_file)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == plain.json()
    assert response.json()["renders"] == [
        "application/json",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ]


def test_me_enrollments_has_the_contract_shape(api_client, enrollment, course):
    first = modules_of(course)[0]
    finish_module(enrollment, first, score=85)
    api_client.force_authenticate(enrollment.participant.user)
    (item,) = api_client.get("/api/v1/me/enrollments/").json()
    assert item["id"] == enrollment.pk
    assert item["cohort"] == {"id": enrollment.cohort_id, "name": enrollment.cohort.name}
    assert item["course"] == {"slug": course.slug, "title": course.title}
    assert item["progress_percent"] == 25 and item["completed_at"] is None
    assert [(m["id"], m["state"]) for m in item["modules"]] == [
        (m.pk, s) for m, s in zip(modules_of(course), ["completed", "available", "locked", "locked"], strict=True)
    ]
    assert item["modules"][0]["best_score"] == 85


def test_cohort_progress_json(api_client, enrollment, course, operator):
    finish_module(enrollment, modules_of(course)[0], score=70)
    api_client.force_authenticate(operator)
    (row,) = api_client.get(f"/api/v1/cohorts/{enrollment.cohort_id}/progress/").json()
    participant = enrollment.participant
    assert row == {
        "nip": participant.nip,
        "full_name": participant.full_name,
        "unit": participant.unit,
        "progress_percent": 25,
        "modules": [
            # Each module has a quiz of three attempts, none started (the first module's result was recorded directly).
            {"id": m.pk, "state": s, "best_score": b, "attempts_left": 3}
            for m, s, b in zip(
                modules_of(course), ["completed", "available", "locked", "locked"], [70, None, None, None], strict=True
            )
        ],
        "completed_at": None,
        "certificate_number": None,
    }


def read_csv(response, delimiter=","):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=delimiter))


@pytest.mark.parametrize("how", [{"format": "csv"}, {"HTTP_ACCEPT": "text/csv"}])
def test_cohort_progress_csv_is_neutralised_and_has_a_bom(api_client, course, operator, how):
    cohort = CohortFactory(course=course)
    dangerous = ['=HYPERLINK("http://x")', "+62811", "-1+1", "@SUM(A1)", "\tTab", "\rCR"]
    for n, text in enumerate(dangerous):
        EnrollmentFactory(cohort=cohort, participant=ParticipantProfileFactory(full_name=f"Peserta {n}", unit=text))
    api_client.force_authenticate(operator)
    params = {"format": "csv"} if "format" in how else {}
    headers = {k: v for k, v in how.items() if k != "format"}
    response = api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/", params, **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert rows[0][:4] == ["nip", "full_name", "unit", "progress_percent"]
    assert rows[0][-2:] == ["completed_at", "certificate_number"]
    units = sorted(row[2] for row in rows[1:])
    assert units == sorted("'" + text for text in dangerous)


@pytest.mark.parametrize("size", [5, 50])
def test_cohort_progress_costs_a_fixed_number_of_queries(
    api_client, course, operator, size, django_assert_max_num_queries
):
    cohort = CohortFactory(course=course)
    modules = modules_of(course)
    for n in range(size):
        enrollment = EnrollmentFactory(cohort=cohort)
        for module in modules[: n % 4]:
            finish_module(enrollment, module)
    api_client.force_authenticate(operator)
    with django_assert_max_num_queries(9):
        response = api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/")
    assert len(response.json()) == size
    with django_assert_max_num_queries(9):
        response = api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/", {"format": "csv"})
        rows = read_csv(response)
    assert len(rows) == size + 1


# --- pages ----------------------------------------------------------------------------------------------


def test_participant_pages_dashboard_course_and_lesson(client, enrollment, course):
    client.force_login(enrollment.participant.user)
    first, second, *_ = modules_of(course)
    html = client.get("/dashboard/").content.decode()
    assert course.title in html and 'aria-valuenow="0"' in html
    html = client.get(f"/learn/{enrollment.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert first.title in html and second.title in html
    assert html.count("Complete the previous module to unlock this one.") == 3  # modules 2-4 are locked
    assert f'href="/lessons/{second.lessons.first().pk}/"' not in html
    lesson = first.lessons.order_by("order").first()
    page = client.get(f"/lessons/{lesson.pk}/")
    assert page.status_code == 200 and "<strong>text</strong>" in page.content.decode()
    response = client.post(f"/lessons/{lesson.pk}/", {"then": "next"})
    assert response.status_code == 302 and response.url == f"/lessons/{first.lessons.order_by('order').last().pk}/"
    assert LessonCompletion.objects.filter(enrollment=enrollment, lesson=lesson).exists()
    # The module's last lesson continues to its quiz, not to the next module's locked lesson.
    response = client.post(f"/lessons/{first.lessons.order_by('order').last().pk}/", {"then": "next"})
    assert response.status_code == 302 and response.url == f"/quizzes/{first.quiz.pk}/"
    locked = client.get(f"/lessons/{second.lessons.first().pk}/")
    assert locked.status_code == 403


def test_operator_progress_page_has_the_chart_filters_and_export(client, course, operator):
    cohort = CohortFactory(course=course)
    done = EnrollmentFactory(
        cohort=cohort, participant=ParticipantProfileFactory(full_name="Ani Selesai", unit="Bappeda")
    )
    EnrollmentFactory(cohort=cohort, participant=ParticipantProfileFactory(full_name="Budi Baru", unit="Dinkes"))
    finish_module(done, modules_of(course)[0])
    client.force_login(operator)
    url = f"/operator/cohorts/{cohort.pk}/progress/"
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Modules completed" in html and "1 / 2" in html and "0 / 2" in html
    html = client.get(url, {"state": "not_started"}).content.decode()
    assert "Budi Baru" in html and "Ani Selesai" not in html
    html = client.get(url, {"unit": "Bappeda"}).content.decode()
    assert "Ani Selesai" in html and "Budi Baru" not in html
    html = client.get(url, {"sort": "-progress"}).content.decode()
    assert html.index("Ani Selesai") < html.index("Budi Baru")
    export = client.get(url, {"format": "csv"})
    assert export["Content-Disposition"].startswith("attachment;")
    assert len(read_csv(export, ";")) == 3
    # The page's export (semicolons, for Excel in the Indonesian locale) holds what the filtered table
    # shows, and the page links to exactly that.
    assert [row[1] for row in read_csv(client.get(url, {"format": "csv", "unit": "Bappeda"}), ";")[1:]] == [
        "Ani Selesai"
    ]
    assert [row[1] for row in read_csv(client.get(url, {"format": "csv", "state": "not_started"}), ";")[1:]] == [
        "Budi Baru"
    ]
    html = client.get(url, {"unit": "Bappeda", "state": "in_progress"}).content.decode()
    assert 'href="?format=csv&amp;unit=Bappeda&amp;state=in_progress"' in html


def read_xlsx(response):
    from openpyxl import load_workbook

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    return [list(row) for row in sheet.iter_rows()]


def test_cohort_progress_as_excel_keeps_nip_and_text_as_text(api_client, course, operator):
    cohort = CohortFactory(course=course)
    finished = EnrollmentFactory(
        cohort=cohort,
        participant=ParticipantProfileFactory(full_name="Ani", nip="198503302010011002", unit='=HYPERLINK("x")'),
    )
    EnrollmentFactory(cohort=cohort, participant=ParticipantProfileFactory(full_name="Budi"))
    finish_module(finished, modules_of(course)[0], score=85)
    api_client.force_authenticate(operator)
    response = api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/", {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="progress-')
    rows = read_xlsx(response)
    csv_rows = read_csv(api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/", {"format": "csv"}))
    assert [c.value for c in rows[0]] == csv_rows[0]  # the same columns as the CSV
    nip, name, unit, percent, state, score = rows[1][:6]
    # 18 digits stay text (Excel would round a number), formula-like text stays text, numbers are numbers.
    assert (nip.value, nip.data_type, nip.number_format) == ("198503302010011002", "s", "@")
    assert (name.value, unit.value, unit.data_type) == ("Ani", '=HYPERLINK("x")', "s")
    assert (percent.value, state.value, score.value) == (25, "completed", 85)
    assert (rows[2][1].value, rows[2][3].value) == ("Budi", 0)


def test_cohort_progress_excel_refusals_stay_json(api_client, enrollment):
    api_client.force_authenticate(enrollment.participant.user)
    response = api_client.get(f"/api/v1/cohorts/{enrollment.cohort_id}/progress/", {"format": "xlsx"})
    assert response.status_code == 403 and response["Content-Type"] == "application/json"


def test_the_progress_page_exports_its_filtered_table_to_excel(client, course, operator):
    cohort = CohortFactory(course=course)
    EnrollmentFactory(cohort=cohort, participant=ParticipantProfileFactory(full_name="Ani", unit="Bappeda"))
    EnrollmentFactory(cohort=cohort, participant=ParticipantProfileFactory(full_name="Budi", unit="Dinkes"))
    client.force_login(operator)
    url = f"/operator/cohorts/{cohort.pk}/progress/"
    rows = read_xlsx(client.get(url, {"format": "xlsx", "unit": "Dinkes"}))
    assert [row[1].value for row in rows[1:]] == ["Budi"]
    assert 'href="?format=xlsx&amp;unit=Dinkes&amp;state="' in client.get(url, {"unit": "Dinkes"}).content.decode()


def test_the_csv_streams_a_chunk_of_enrollments_at_a_time(api_client, course, operator, settings, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from courses.selectors import progress as selectors

    settings.COURSES_PROGRESS_CHUNK_SIZE = 2
    cohort = CohortFactory(course=course)
    names = ["Ani", "Budi", "Citra", "Dewi", "Eko"]
    for name in reversed(names):
        EnrollmentFactory(cohort=cohort, participant=ParticipantProfileFactory(full_name=name))
    built, real = [], selectors._row_cells
    monkeypatch.setattr(selectors, "_row_cells", lambda *args: built.append(1) or real(*args))
    api_client.force_authenticate(operator)
    response = api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/", {"format": "csv"})
    assert built == []  # before the body is read: no row built
    with CaptureQueriesContext(connection) as captured:
        rows = read_csv(response)
    assert len(built) == 5
    # Progress is read a chunk of enrolments at a time: chunks of 2, 2 and 1.
    assert sum('FROM "courses_moduleprogress"' in q["sql"] for q in captured.captured_queries) == 3
    assert [row[1] for row in rows[1:]] == names  # in name order across chunks


def test_the_streamed_report_follows_the_progress_rule_row_for_row(course, operator, api_client):
    from courses.selectors import cohort_enrollments, cohort_progress_stream
    from tests.factories import CertificateFactory

    cohort = CohortFactory(course=course)
    modules = modules_of(course)
    enrollments = [EnrollmentFactory(cohort=cohort) for _ in range(6)]
    for n, enrollment in enumerate(enrollments):
        for module in modules[: n % 5]:
            finish_module(enrollment, module, score=60 + n)
        if n % 5 < len(modules):
            lesson_complete(enrollment=enrollment, lesson=modules[n % 5].lessons.first())
    certificate = CertificateFactory(enrollment=enrollments[4])
    module_count, rows = cohort_progress_stream(cohort=cohort, size=4)
    streamed = list(rows)
    expected = enrollments_progress(cohort_enrollments(cohort=cohort), module_values=["attempts_left"])
    assert module_count == len(modules)
    assert [row.nip for row in streamed] == [item.enrollment.participant.nip for item in expected]
    assert [row.progress_percent for row in streamed] == [item.progress_percent for item in expected]
    assert [row.modules for row in streamed] == [
        [(m.module.pk, m.state, m.best_score, m.extras["attempts_left"]) for m in item.modules] for item in expected
    ]
    assert [row.columns for row in streamed] == [item.column_values for item in expected]
    assert certificate.number in [row.columns[0] for row in streamed]


@pytest.mark.parametrize("params", [{}, {"format": "csv"}])
def test_the_cohort_report_costs_at_most_10_queries(course, operator, api_client, params):
    from django.test.utils import CaptureQueriesContext

    cohort = CohortFactory(course=course)
    for n in range(30):
        enrollment = EnrollmentFactory(cohort=cohort)
        if n % 3:
            finish_module(enrollment, modules_of(course)[0])
    api_client.force_authenticate(operator)
    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/", params)
        body = b"".join(response.streaming_content)
    assert response.status_code == 200
    if params:
        assert body.count(b"\n") == 31  # the header and a line per participant
    else:
        assert len(json.loads(body)) == 30
    assert len(captured) <= 10, "\n".join(q["sql"][:120] for q in captured.captured_queries)
