"""The guided path: the next-step selector, each participant page's one primary action, the completion page,
and the help page with the operator's notification when the quiz attempts run out."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from assessments.services import allowance_grant, attempt_start, attempt_submit
from certificates.codes import code_display
from courses.models import Enrollment, ModuleProgress
from courses.selectors import StepKind, enrollments_progress, next_steps
from courses.services import lesson_complete, module_help_notify, module_help_request
from tests.assessments.conftest import build_quiz, right_answers
from tests.factories import (
    CertificateFactory,
    CohortFactory,
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    ModuleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PRIMARY = re.compile(r"<(a|button)\b[^>]*\bdata-primary-action\b[^>]*>(.*?)</\1>", re.S)


@pytest.fixture
def course():
    """Two modules of two lessons, each with a three-question quiz (three attempts, pass mark 70%)."""
    course = CourseFactory(published=True)
    for order in (1, 2):
        module = ModuleFactory(course=course, order=order, title=f"Modul {order}")
        LessonFactory(module=module, order=1, title=f"Materi {order}.1")
        LessonFactory(module=module, order=2, title=f"Materi {order}.2")
        build_quiz(module=module, questions=3, title=f"Kuis modul {order}", max_attempts=3)
    return course


@pytest.fixture
def cohort(course):
    return CohortFactory(
        course=course,
        name="Angkatan I",
        contact_name="Rina Operator",
        contact_email="rina@diskominfo.example.go.id",
        contact_phone="0511 123 456",
    )


@pytest.fixture
def enrollment(cohort):
    return EnrollmentFactory(cohort=cohort, participant__full_name="Siti Rahmawati")


@pytest.fixture
def web(client, enrollment):
    client.force_login(enrollment.participant.user)
    return client


def modules(course):
    return list(course.modules.order_by("order"))


def lessons(module):
    return list(module.lessons.order_by("order"))


def read(enrollment, module):
    for lesson in lessons(module):
        lesson_complete(enrollment=enrollment, lesson=lesson)


def attempt(enrollment, module, *, right: bool):
    quiz = module.quiz
    started = attempt_start(user=enrollment.participant.user, quiz=quiz).attempt
    return attempt_submit(attempt=started, answers=right_answers(quiz, wrong=0 if right else 3))


def step(enrollment):
    (item,) = enrollments_progress(Enrollment.objects.filter(pk=enrollment.pk))
    return next_steps([item])[enrollment.pk]


def primary_actions(html: str) -> list[tuple[str, str]]:
    """Each element marked ``data-primary-action``: its href or form action, and its text."""
    found = []
    for match in PRIMARY.finditer(html):
        href = re.search(r'href="([^"]*)"', match.group(0))
        found.append((href.group(1) if href else "<submit>", " ".join(re.sub(r"<[^>]+>", "", match.group(2)).split())))
    return found


def only_primary(html: str) -> tuple[str, str]:
    found = primary_actions(html)
    assert len(found) == 1, found
    return found[0]


# --- the selector --------------------------------------------------------------------------------


def test_the_next_step_follows_the_course(enrollment, course, django_capture_on_commit_callbacks):
    first, second = modules(course)
    assert (step(enrollment).kind, step(enrollment).url) == (StepKind.START, f"/lessons/{lessons(first)[0].pk}/")
    lesson_complete(enrollment=enrollment, lesson=lessons(first)[0])
    now = step(enrollment)
    assert (now.kind, now.url, now.lesson_title) == (StepKind.LESSON, f"/lessons/{lessons(first)[1].pk}/", "Materi 1.2")
    lesson_complete(enrollment=enrollment, lesson=lessons(first)[1])
    now = step(enrollment)
    assert (now.kind, now.url, now.quiz_title) == (StepKind.QUIZ, f"/quizzes/{first.quiz.pk}/", "Kuis modul 1")
    attempt(enrollment, first, right=False)  # a fail with attempts left: still the quiz
    assert step(enrollment).kind == StepKind.QUIZ
    attempt(enrollment, first, right=True)
    now = step(enrollment)
    assert (now.kind, now.url, now.module.module) == (
        StepKind.NEXT_MODULE,
        f"/lessons/{lessons(second)[0].pk}/",
        second,
    )
    read(enrollment, second)
    with django_capture_on_commit_callbacks(execute=False):
        attempt(enrollment, second, right=True)
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    assert (step(enrollment).kind, step(enrollment).url) == (StepKind.COMPLETED, f"/courses/{course.slug}/selesai/")


def test_completed_means_the_enrolment_says_so_not_the_modules_counted(enrollment, course):
    """Another rule (e.g. an action plan) may hold the completion back: every module done is not enough."""
    for module in modules(course):
        read(enrollment, module)
        ModuleProgress.objects.update_or_create(
            enrollment=enrollment,
            module=module,
            defaults={"completed_at": timezone.now(), "quiz_passed_at": timezone.now()},
        )
    assert Enrollment.objects.get(pk=enrollment.pk).completed_at is None
    assert (step(enrollment).kind, step(enrollment).url) == (StepKind.COURSE, f"/learn/{enrollment.pk}/")
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=timezone.now())
    assert step(enrollment).kind == StepKind.COMPLETED


def test_out_of_attempts_the_next_step_is_the_help_page(enrollment, course, django_capture_on_commit_callbacks):
    first, _ = modules(course)
    read(enrollment, first)
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(3):
            attempt(enrollment, first, right=False)
    now = step(enrollment)
    assert (now.kind, now.url) == (StepKind.HELP, f"/learn/{enrollment.pk}/modules/{first.pk}/help/")
    allowance_grant(enrollment=enrollment, quiz=first.quiz, extra=1)  # another chance lifts the flag
    assert step(enrollment).kind == StepKind.QUIZ


def test_the_next_steps_of_many_enrolments_cost_two_queries(course, django_assert_num_queries):
    first, _ = modules(course)
    enrollments = [EnrollmentFactory(cohort__course=course) for _ in range(5)]
    for enrollment in enrollments[:3]:
        lesson_complete(enrollment=enrollment, lesson=lessons(first)[0])
    progress = enrollments_progress(Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]))
    with django_assert_num_queries(2):
        steps = next_steps(progress)
    assert {steps[e.pk].kind for e in enrollments[:3]} == {StepKind.LESSON}
    assert {steps[e.pk].kind for e in enrollments[3:]} == {StepKind.START}


# --- each page's one primary action -------------------------------------------------------------


def test_dashboard_and_course_page_offer_the_next_step(web, enrollment, course):
    first, _ = modules(course)
    assert only_primary(web.get("/dashboard/").content.decode()) == (
        f"/lessons/{lessons(first)[0].pk}/",
        "Mulai pelatihan",
    )
    read(enrollment, first)
    expected = (f"/quizzes/{first.quiz.pk}/", "Kerjakan kuis: Kuis modul 1")
    assert only_primary(web.get("/dashboard/").content.decode()) == expected
    assert only_primary(web.get(f"/learn/{enrollment.pk}/").content.decode()) == expected


def test_a_second_enrolment_card_is_not_a_second_primary_action(web, enrollment, course):
    EnrollmentFactory(participant=enrollment.participant, cohort__course=CourseFactory())
    html = web.get("/dashboard/").content.decode()
    assert len(primary_actions(html)) == 1


def test_the_lesson_page_marks_done_then_goes_on_to_the_quiz(web, enrollment, course):
    first, _ = modules(course)
    one, two = lessons(first)
    assert only_primary(web.get(f"/lessons/{one.pk}/").content.decode()) == ("<submit>", "Tandai selesai dan lanjutkan")
    assert web.post(f"/lessons/{one.pk}/", {"then": "next"})["Location"] == f"/lessons/{two.pk}/"
    # Read again: done, the primary action is what comes next.
    assert only_primary(web.get(f"/lessons/{one.pk}/").content.decode()) == (
        f"/lessons/{two.pk}/",
        "Lanjutkan: Materi 1.2",
    )
    # The module's last lesson leads to its quiz.
    assert web.post(f"/lessons/{two.pk}/", {"then": "next"})["Location"] == f"/quizzes/{first.quiz.pk}/"


def test_the_quiz_page_starts_then_after_a_pass_goes_on_to_the_next_module(web, enrollment, course):
    first, second = modules(course)
    read(enrollment, first)
    assert only_primary(web.get(f"/quizzes/{first.quiz.pk}/").content.decode()) == ("<submit>", "Mulai kuis")
    attempt(enrollment, first, right=True)
    html = web.get(f"/quizzes/{first.quiz.pk}/").content.decode()
    assert only_primary(html) == (f"/lessons/{lessons(second)[0].pk}/", "Lanjut ke modul berikutnya: Modul 2")
    assert "Mulai kuis" not in html


def test_a_result_at_100_percent_offers_no_retry_but_the_next_module(web, enrollment, course):
    first, second = modules(course)
    read(enrollment, first)
    passed = attempt(enrollment, first, right=True)
    assert passed.score_percent == 100
    html = web.get(f"/attempts/{passed.pk}/result/").content.decode()
    assert "Coba lagi" not in html and "kesempatan" not in html
    assert only_primary(html) == (f"/lessons/{lessons(second)[0].pk}/", "Lanjut ke modul berikutnya: Modul 2")


def test_a_failed_result_with_attempts_left_offers_to_try_again(web, enrollment, course):
    first, _ = modules(course)
    read(enrollment, first)
    failed = attempt(enrollment, first, right=False)
    html = web.get(f"/attempts/{failed.pk}/result/").content.decode()
    assert only_primary(html) == ("<submit>", "Coba lagi")


def test_the_last_module_passed_leads_to_the_completion_page(
    web, enrollment, course, django_capture_on_commit_callbacks
):
    first, second = modules(course)
    read(enrollment, first)
    attempt(enrollment, first, right=True)
    read(enrollment, second)
    with django_capture_on_commit_callbacks(execute=False):
        passed = attempt(enrollment, second, right=True)
    html = web.get(f"/attempts/{passed.pk}/result/").content.decode()
    assert only_primary(html) == (f"/courses/{course.slug}/selesai/", "Lihat sertifikat Anda")
    assert "Coba lagi" not in html


def test_the_completion_page_shows_the_certificate_and_what_to_do_with_it(web, enrollment, course):
    first, _ = modules(course)
    assert web.get(f"/courses/{course.slug}/selesai/")["Location"] == f"/learn/{enrollment.pk}/"  # not yet
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=timezone.now())
    html = web.get(f"/courses/{course.slug}/selesai/").content.decode()
    assert "Selamat, Anda telah menyelesaikan pelatihan" in html
    # No certificate yet (it is issued in the background): the page says so and offers to reload.
    assert "Sertifikat Anda sedang disiapkan" in html and only_primary(html) == ("", "Muat ulang halaman")
    certificate = CertificateFactory(enrollment=enrollment)
    html = web.get(f"/courses/{course.slug}/selesai/").content.decode()
    href, text = only_primary(html)
    assert href.startswith("/certificates/") and text == "Lihat dan unduh sertifikat Anda"
    assert certificate.number in html and "/pdf/" in html
    assert "BKD/BKPSDM" in html and "halaman verifikasi" in html
    # The digital credential beside the PDF, under the same file name as on the dashboard.
    assert f'/api/v1/certificates/{code_display(certificate.code)}/credential/"' in html
    assert f'download="sertifikat-{certificate.number.replace("/", "-")}.jwt"' in html


def test_the_completion_page_is_only_the_participants_own(client, enrollment, course):
    client.force_login(UserFactory())
    assert client.get(f"/courses/{course.slug}/selesai/").status_code == 404


# --- out of attempts ----------------------------------------------------------------------------


def fail_three_times(enrollment, module, capture):
    read(enrollment, module)
    with capture() as callbacks:
        results = [attempt(enrollment, module, right=False) for _ in range(3)]
    return results, callbacks


def test_out_of_attempts_the_operator_is_told_once_and_the_pages_point_to_help(
    web, enrollment, course, django_capture_on_commit_callbacks
):
    first, _ = modules(course)
    results, callbacks = fail_three_times(enrollment, first, django_capture_on_commit_callbacks)
    progress = ModuleProgress.objects.get(enrollment=enrollment, module=first)
    assert progress.help_needed_at is not None and progress.help_notified_at is None
    assert len(callbacks) == 1  # only the last fail enqueued the notification
    assert len(mail.outbox) == 0
    callbacks[0]()  # the task, eager under the test settings
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rina@diskominfo.example.go.id"]
    assert message.subject == "Siti Rahmawati memerlukan bantuan untuk melanjutkan pelatihan"
    assert "tidak dapat melanjutkan sendiri" in message.body and "cannot go on alone" in message.body  # bilingual
    assert "Modul 1" in message.body and f"/operator/cohorts/{enrollment.cohort_id}/progress/" in message.body
    progress.refresh_from_db()
    assert progress.help_notified_at is not None
    # Twice changes nothing: neither the request nor a redelivered task sends another email.
    with django_capture_on_commit_callbacks(execute=True) as again:
        assert module_help_request(enrollment_id=enrollment.pk, module_id=first.pk) is False
    assert again == [] and module_help_notify(progress_id=progress.pk) is False
    assert len(mail.outbox) == 1

    help_url = f"/learn/{enrollment.pk}/modules/{first.pk}/help/"
    html = web.get(f"/attempts/{results[-1].pk}/result/").content.decode()
    assert only_primary(html) == (help_url, "Perlu bantuan: langkah selanjutnya") and "Coba lagi" not in html
    assert only_primary(web.get(f"/quizzes/{first.quiz.pk}/").content.decode()) == (
        help_url,
        "Perlu bantuan: langkah selanjutnya",
    )
    dashboard = web.get("/dashboard/").content.decode()
    assert "Perlu bantuan" in dashboard and "Lanjutkan" not in dashboard
    assert only_primary(dashboard)[0] == help_url

    page = web.get(help_url).content.decode()
    assert "Anda telah menggunakan semua kesempatan mengerjakan kuis modul “Modul 1”" in page
    assert "Operator Anda telah diberi tahu pada" in page and "WITA" in page
    assert "Rina Operator" in page and "rina@diskominfo.example.go.id" in page and 'href="tel:0511123456"' in page
    assert only_primary(page) == ("mailto:rina@diskominfo.example.go.id", "Kirim surel ke narahubung")
    english = web.get(help_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You have used every attempt at the quiz of the module" in english


def test_without_a_cohort_contact_the_operators_are_told(enrollment, course, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Group

    type(enrollment.cohort).objects.filter(pk=enrollment.cohort_id).update(contact_email="")
    operator = UserFactory(email="operator@example.go.id")
    operator.groups.add(Group.objects.get_or_create(name="operators")[0])
    UserFactory(email="someone@example.go.id")  # neither operator nor superuser
    first, _ = modules(course)
    _, callbacks = fail_three_times(enrollment, first, django_capture_on_commit_callbacks)
    callbacks[0]()
    assert [m.to for m in mail.outbox] == [["operator@example.go.id"]]


def test_the_help_page_is_not_shown_when_nothing_blocks(web, enrollment, course):
    first, _ = modules(course)
    response = web.get(f"/learn/{enrollment.pk}/modules/{first.pk}/help/")
    assert response.status_code == 302 and response["Location"] == f"/lessons/{lessons(first)[0].pk}/"
    other = EnrollmentFactory(cohort__course=course)
    assert web.get(f"/learn/{other.pk}/modules/{first.pk}/help/").status_code == 404


def test_a_notification_that_cannot_be_sent_is_retried_not_recorded(
    enrollment, course, django_capture_on_commit_callbacks, monkeypatch
):
    first, _ = modules(course)
    _, callbacks = fail_three_times(enrollment, first, django_capture_on_commit_callbacks)
    progress = ModuleProgress.objects.get(enrollment=enrollment, module=first)

    def broken(*args, **kwargs):
        raise ConnectionError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    with pytest.raises(ConnectionError):
        module_help_notify(progress_id=progress.pk)
    progress.refresh_from_db()
    assert progress.help_notified_at is None
    monkeypatch.undo()
    assert module_help_notify(progress_id=progress.pk) is True and len(mail.outbox) == 1


def test_the_cohort_form_takes_the_contact(client, operator, course):
    client.force_login(operator)
    response = client.post(
        "/operator/cohorts/",
        {
            "course": course.pk,
            "name": "Angkatan II",
            "starts_on": "2026-12-07",
            "ends_on": "2026-12-18",
            "contact_name": "Budi Santoso",
            "contact_email": "budi@example.go.id",
            "contact_phone": "0812 3456 7890",
        },
    )
    assert response.status_code == 302
    cohort = course.cohorts.get(name="Angkatan II")
    assert (cohort.contact_name, cohort.contact_email, cohort.contact_phone) == (
        "Budi Santoso",
        "budi@example.go.id",
        "0812 3456 7890",
    )
    bad = client.post(
        "/operator/cohorts/",
        {
            "course": course.pk,
            "name": "Angkatan III",
            "starts_on": "2026-12-07",
            "ends_on": "2026-12-18",
            "contact_email": "bukan-surel",
        },
    )
    assert bad.status_code == 200 and not course.cohorts.filter(name="Angkatan III").exists()


def test_the_operators_progress_page_flags_who_needs_help(
    client, operator, enrollment, course, django_capture_on_commit_callbacks
):
    first, _ = modules(course)
    url = f"/operator/cohorts/{enrollment.cohort_id}/progress/"
    client.force_login(operator)
    assert "Perlu bantuan" not in client.get(url).content.decode()
    fail_three_times(enrollment, first, django_capture_on_commit_callbacks)
    html = client.get(url).content.decode()
    assert html.count('<strong class="badge help">Perlu bantuan</strong>') == 1


def test_the_sweep_resends_a_lost_notification_once(enrollment, course, django_capture_on_commit_callbacks):
    import datetime

    from courses.tasks import module_help_sweep_task

    first, _ = modules(course)
    fail_three_times(enrollment, first, django_capture_on_commit_callbacks)  # its message never ran: lost
    progress = ModuleProgress.objects.get(enrollment=enrollment, module=first)
    assert module_help_sweep_task() == 0  # within the grace the normal path may still deliver it
    ModuleProgress.objects.filter(pk=progress.pk).update(help_needed_at=timezone.now() - datetime.timedelta(minutes=10))
    assert module_help_sweep_task() == 1  # eager under the test settings: sent
    assert [m.to for m in mail.outbox] == [["rina@diskominfo.example.go.id"]]
    assert module_help_sweep_task() == 0 and len(mail.outbox) == 1


def test_attempts_used_up_before_the_flag_existed_are_flagged_when_the_quiz_page_is_seen(
    web, enrollment, course, django_capture_on_commit_callbacks
):
    first, _ = modules(course)
    fail_three_times(enrollment, first, django_capture_on_commit_callbacks)
    ModuleProgress.objects.filter(enrollment=enrollment).update(help_needed_at=None)  # as before this release
    assert step(enrollment).kind == StepKind.QUIZ
    with django_capture_on_commit_callbacks(execute=True):
        html = web.get(f"/quizzes/{first.quiz.pk}/").content.decode()
    help_url = f"/learn/{enrollment.pk}/modules/{first.pk}/help/"
    assert only_primary(html) == (help_url, "Perlu bantuan: langkah selanjutnya")
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        web.get(f"/quizzes/{first.quiz.pk}/")
    assert len(mail.outbox) == 1


def test_a_locked_lesson_points_to_where_the_participant_goes_on(web, enrollment, course):
    first, second = modules(course)
    response = web.get(f"/lessons/{lessons(second)[0].pk}/")
    assert response.status_code == 403
    assert only_primary(response.content.decode()) == (f"/lessons/{lessons(first)[0].pk}/", "Mulai pelatihan")
