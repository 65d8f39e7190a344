"""The guided path in a real browser at phone width: a participant goes from the invitation email to the
certificate pressing only each page's primary action (``[data-primary-action]``), and one who fails a quiz
three times lands on the help page. axe-core checks every page visited.

Celery runs in-process under the test settings (as in ``test_browser``): the certificate is issued and the
operator's email sent right after the commit of the request that calls for them.
"""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command

from certificates.models import Certificate
from courses.models import Course, Enrollment, ModuleProgress
from courses.services import invitations_send
from tests.assessments.conftest import build_quiz
from tests.e2e.conftest import PASSWORD, PHONE, answers_tick, import_playwright
from tests.factories import ACTION_PLAN, CohortFactory, EnrollmentFactory, LessonFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

playwright = import_playwright()
expect = playwright.expect

PRIMARY = "[data-primary-action]"
NEW_PASSWORD = "Balikpapan-Teluk-2026"
ATTEMPT = re.compile(r"/attempts/\d+/$")


def press_primary(page) -> None:
    """Press the page's one primary action and wait for the page it leads to."""
    primary = page.locator(PRIMARY)
    expect(primary).to_have_count(1)
    expect(primary).to_be_visible()
    if ATTEMPT.search(page.url):
        page.once("dialog", lambda dialog: dialog.accept())  # "Submit your answers now?"
    with page.expect_navigation():
        primary.click()
    page.wait_for_load_state("load")


def where(page, base: str) -> str:
    return page.url.removeprefix(base)


def test_guided_path_from_the_invitation_to_the_certificate(live_server, new_page, accessibility):
    call_command("loadcurriculum", stdout=io.StringIO())
    gcio = Course.objects.get(slug="gcio")
    enrollment = EnrollmentFactory(
        cohort=CohortFactory(course=gcio, name="Angkatan I 2026"),
        participant__full_name="Siti Rahmawati",
        participant__nip="198503302010011002",
        participant__user__email="siti.rahmawati@example.go.id",
    )
    nip = enrollment.participant.nip
    assert invitations_send(user_ids=[enrollment.participant.user_id]) == 1
    (invitation,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", invitation.body).group(0)
    page = new_page(PHONE)
    base = live_server.url
    visited: list[str] = []

    def check(step: str) -> None:
        accessibility.check(page, f"{step} {where(page, base)}")
        visited.append(where(page, base))

    page.goto("/accounts/" + link.split("/accounts/", 1)[1])  # the link as the email gives it, on this server
    expect(page.locator("#id_new_password1")).to_be_visible()
    check("set-password")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    press_primary(page)
    check("password-set")
    press_primary(page)  # "Masuk"
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    check("login")
    page.fill("#id_username", nip)
    page.fill("#id_password", NEW_PASSWORD)
    press_primary(page)
    expect(page).to_have_url(f"{base}/dashboard/")

    # From here on: only the primary action, whatever the page, until the certificate.
    kinds: list[str] = []
    for _ in range(120):
        path = where(page, base)
        check("journey")
        if re.match(r"/certificates/[\w-]+/$", path):
            break
        if ATTEMPT.search(path):
            answers_tick(page, right=True)
            kinds.append("attempt")
        elif re.match(r"/attempts/\d+/result/$", path):
            expect(page.locator(".quiz-score")).to_contain_text("Lulus")
            expect(page.locator("main")).not_to_contain_text("Coba lagi")
            kinds.append("result")
        elif re.match(r"/quizzes/\d+/$", path):
            kinds.append("quiz")
        elif re.match(r"/lessons/\d+/$", path):
            kinds.append("lesson")
        elif re.match(r"/learn/\d+/action-plan/$", path):
            # The course's last step: the participant writes the plan; its submit button is the primary action.
            for field, value in ACTION_PLAN.items():
                page.fill(f"#id_{field}", value)
            kinds.append("action plan")
        elif path.endswith("/selesai/"):
            expect(page.locator("h1")).to_have_text("Selamat, Anda telah menyelesaikan pelatihan")
            expect(page.locator("main")).to_contain_text("BKD/BKPSDM")
            kinds.append("completion")
        elif path == "/dashboard/":
            kinds.append("dashboard")
        press_primary(page)
    else:
        raise AssertionError(f"no certificate after {len(visited)} pages: {visited[-5:]}")

    lessons = sum(module.lessons.count() for module in gcio.modules.all())
    assert kinds.count("lesson") == lessons
    assert kinds.count("attempt") == kinds.count("result") == kinds.count("quiz") == gcio.modules.count()
    assert kinds[0] == "dashboard" and kinds[-1] == "completion" and kinds[-2] == "action plan"
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    certificate = Certificate.objects.get(enrollment=enrollment)
    expect(page.locator("h1")).to_have_text("Sertifikat Anda")
    expect(page.locator("main")).to_contain_text(certificate.number)
    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")


def test_guided_path_out_of_attempts_ends_on_the_help_page(live_server, new_page, accessibility):
    quiz = build_quiz(questions=3, max_attempts=3, title="Kuis Transformasi")
    LessonFactory(module=quiz.module, order=1, title="Makna transformasi digital")
    cohort = CohortFactory(
        course=quiz.module.course,
        name="Angkatan II 2026",
        contact_name="Rina Wulandari",
        contact_email="rina@diskominfo.example.go.id",
        contact_phone="0541 123 456",
    )
    enrollment = EnrollmentFactory(cohort=cohort, participant__full_name="Budi Santoso")
    page = new_page(PHONE)
    base = live_server.url
    page.goto("/accounts/login/")
    page.fill("#id_username", enrollment.participant.nip)
    page.fill("#id_password", PASSWORD)
    press_primary(page)

    results = 0
    for _ in range(30):
        path = where(page, base)
        accessibility.check(page, path)
        if "/help/" in path:
            break
        if ATTEMPT.search(path):
            answers_tick(page, right=False)
        elif re.match(r"/attempts/\d+/result/$", path):
            results += 1
            expect(page.locator(".quiz-score")).to_contain_text("Belum lulus")
        press_primary(page)
    else:
        raise AssertionError(f"never reached the help page; last {where(page, base)}")

    assert results == 3
    expect(page.locator("h1")).to_have_text("Anda memerlukan bantuan untuk melanjutkan")
    main = page.locator("main")
    expect(main).to_contain_text("Anda telah menggunakan semua kesempatan mengerjakan kuis modul")
    expect(main).to_contain_text("Operator Anda telah diberi tahu pada")
    expect(main).to_contain_text("Rina Wulandari")
    expect(page.locator(PRIMARY)).to_have_attribute("href", "mailto:rina@diskominfo.example.go.id")
    # The operator was told once, in both languages.
    assert [m.to for m in mail.outbox] == [["rina@diskominfo.example.go.id"]]
    assert "cannot go on alone" in mail.outbox[0].body
    assert ModuleProgress.objects.get(enrollment=enrollment, module=quiz.module).help_notified_at is not None

    page.goto("/dashboard/")
    accessibility.check(page, "dashboard needing help")
    expect(page.locator("ol.steps")).to_contain_text("Perlu bantuan")
    expect(page.locator(PRIMARY)).to_have_text("Perlu bantuan: langkah selanjutnya")
    expect(page.locator("main")).not_to_contain_text("Lanjutkan")
    assert Enrollment.objects.get(pk=enrollment.pk).completed_at is None
