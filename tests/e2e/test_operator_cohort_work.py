"""An operator runs a cohort from their own pages, in a real browser at phone and desktop width: finds
the participant who is out of attempts, grants her one, and she goes on; resends the invitation to
whoever has not signed in yet; sends reminders to those behind pace. axe-core checks each operator page.

Celery runs in-process under the test settings: the emails go out right after the request's commit,
into Django's test outbox.
"""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from assessments.models import AttemptAllowance
from assessments.services import attempt_start, attempt_submit
from courses.models import AuditEntry, Enrollment
from tests.assessments.conftest import build_quiz, right_answers
from tests.e2e.conftest import DESKTOP, SCREENSHOTS, import_playwright, log_in
from tests.factories import CohortFactory, CourseFactory, EnrollmentFactory, LessonFactory, ModuleFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

playwright = import_playwright()
expect = playwright.expect

PHONE_390 = {"width": 390, "height": 844}
ATTEMPT = re.compile(r"/attempts/\d+/$")


@pytest.fixture
def cohort_at_work(db):
    """A running cohort (half its period gone): Ani out of attempts at module 1's quiz, Budi who never
    signed in, Citra who has read one lesson."""
    course = CourseFactory(published=True, title="Pelatihan GCIO")
    module = ModuleFactory(course=course, order=1, title="Transformasi Digital")
    lesson = LessonFactory(module=module, order=1, title="Makna Transformasi Digital")
    quiz = build_quiz(module=module, questions=3, title="Kuis Modul 1", max_attempts=3)
    today = timezone.localdate()
    cohort = CohortFactory(
        course=course,
        name="Angkatan II 2026",
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today + datetime.timedelta(days=10),
        contact_name="Rina Operator",
        contact_email="rina@diskominfo.example.go.id",
    )
    ani = EnrollmentFactory(cohort=cohort, participant__full_name="Ani Suryani", participant__user__email="ani@x.id")
    budi = EnrollmentFactory(cohort=cohort, participant__full_name="Budi Hartono", participant__user__email="b@x.id")
    budi.participant.user.set_unusable_password()
    budi.participant.user.save()
    citra = EnrollmentFactory(cohort=cohort, participant__full_name="Citra Lestari", participant__user__email="c@x.id")
    from courses.services import lesson_complete

    for enrollment in (ani, citra):
        lesson_complete(enrollment=enrollment, lesson=lesson)
    for _ in range(3):
        started = attempt_start(user=ani.participant.user, quiz=quiz).attempt
        attempt_submit(attempt=started, answers=right_answers(quiz, wrong=3))
    return cohort, quiz, {"ani": ani, "budi": budi, "citra": citra}


def no_sideways_scroll(page, where: str) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{where}: the page is {width[0]} px wide at {width[1]} px"


@pytest.mark.parametrize("viewport", [PHONE_390, DESKTOP], ids=["phone", "desktop"])
def test_an_operator_unblocks_resends_and_reminds_from_the_participants_page(
    live_server, new_page, accessibility, operator, cohort_at_work, viewport
):
    cohort, quiz, people = cohort_at_work
    ani = people["ani"]
    page = new_page(viewport)
    log_in(page, operator.username)

    # The participants page: the flag chips with their counts; Ani is the one out of attempts.
    page.goto(f"/operator/cohorts/{cohort.pk}/participants/")
    accessibility.check(page, "participants page")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"operator-participants-{viewport['width']}.png"), full_page=True)
    no_sideways_scroll(page, "participants page")
    chip = page.locator('a[data-flag="out_of_attempts"]')
    expect(chip.locator(".count")).to_have_text("1")
    chip.click()
    page.wait_for_load_state("load")
    rows = page.locator("tbody tr[data-enrollment]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ani Suryani")

    # Her record: every attempt, then one extra attempt granted with a reason.
    rows.first.get_by_role("link", name="Ani Suryani").click()
    page.wait_for_load_state("load")
    accessibility.check(page, "participant page")
    page.screenshot(path=str(SCREENSHOTS / f"operator-participant-{viewport['width']}.png"), full_page=True)
    no_sideways_scroll(page, "participant page")
    left = page.locator(f'[data-quiz="{quiz.pk}"]')
    expect(left).to_have_attribute("data-attempts-left", "0")
    expect(page.locator("table tbody tr")).to_have_count(3)
    expect(page.locator("#grant-quiz")).to_have_value(str(quiz.pk))  # the blocked quiz is preselected
    page.fill("#grant-extra", "1")
    page.fill("#grant-reason", "Sakit saat pengerjaan kedua")
    page.locator("#grant-form button[type=submit]").click()
    page.wait_for_load_state("load")
    expect(page.locator(f'[data-quiz="{quiz.pk}"]')).to_have_attribute("data-attempts-left", "1")
    allowance = AttemptAllowance.objects.get(enrollment=ani, quiz=quiz)
    assert (allowance.extra, allowance.granted_by_id) == (1, operator.pk)
    assert AuditEntry.objects.filter(action="grant", enrollment=ani, actor=operator).count() == 1

    # Ani goes on: her quiz page offers a new attempt, and it starts.
    participant = new_page(viewport)
    log_in(participant, ani.participant.nip)
    participant.goto(f"/quizzes/{quiz.pk}/")
    primary = participant.locator("[data-primary-action]")
    expect(primary).to_have_count(1)
    with participant.expect_navigation():
        primary.click()
    assert ATTEMPT.search(participant.url), participant.url

    # Back on the participants page: resend to whoever has not signed in (Budi only), then remind those
    # behind pace. Each person gets at most one of each a day, whoever clicks.
    mail.outbox.clear()
    page.goto(f"/operator/cohorts/{cohort.pk}/participants/")
    resend = page.locator("#resend-all")
    expect(resend).to_be_enabled()
    resend.click()
    page.wait_for_load_state("load")
    expect(page.locator("[role=status]").first).to_be_visible()
    invited = [message.to for message in mail.outbox]
    assert invited == [[people["budi"].participant.user.email]], invited

    mail.outbox.clear()
    page.locator("#remind-behind").click()
    page.wait_for_load_state("load")
    reminded = sorted(address for message in mail.outbox for address in message.to)
    behind = {
        enrollment.participant.user.email
        for enrollment in Enrollment.objects.filter(cohort=cohort).select_related("participant__user")
    }
    assert reminded and set(reminded) <= behind, reminded
    assert all("/learn/" in message.body for message in mail.outbox)  # one link, to the participant's course

    mail.outbox.clear()
    page.locator("#remind-behind").click()  # a second click the same day sends nothing more
    page.wait_for_load_state("load")
    page.goto(f"/operator/cohorts/{cohort.pk}/participants/")
    page.locator("#resend-all").click()  # Budi has not signed in yet, but had his invitation today
    page.wait_for_load_state("load")
    assert mail.outbox == []

    # The cohort's audit log lists what was done, by whom.
    page.goto(f"/operator/cohorts/{cohort.pk}/audit/")
    accessibility.check(page, "audit log")
    no_sideways_scroll(page, "audit log")
    expect(page.locator("main")).to_contain_text("Ani Suryani")
