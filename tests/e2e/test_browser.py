"""Real-browser journeys: a participant from login to certificate, an operator from a new cohort to the
progress export, and a verifier scanning a certificate's QR code before and after it is revoked.

Chromium (Debian's) is driven by Playwright against pytest-django's live server; Celery runs in-process
under the test settings, so the certificate is issued during the request that completes the course.
Every page visited is checked in Indonesian and English and at phone width (see ``SiteCheck``).
"""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from certificates.codes import code_display
from certificates.models import Certificate
from courses.models import Cohort, Course, Enrollment, LessonCompletion
from courses.services import action_plan_submit, lesson_complete, quiz_result_record
from tests.courses.enrollment_files import csv_bytes, nip_for, person
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, answers_tick, import_playwright, log_in
from tests.factories import ACTION_PLAN, CohortFactory, EnrollmentFactory, UserFactory, action_plan_values

# Without Chromium (checked by the ``browser`` fixture) or Playwright the journeys skip, or fail under CI.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

playwright = import_playwright()
expect = playwright.expect


def submit_action_plan(enrollment) -> None:
    """What the participant writes on the action-plan page, through the service (completes the course)."""
    action_plan_submit(enrollment=enrollment, **action_plan_values())


@pytest.fixture
def gcio() -> Course:
    call_command("loadcurriculum", stdout=io.StringIO())
    return Course.objects.get(slug="gcio")


def answer_quiz(page, *, right: bool) -> None:
    """Answer every question on the attempt page (all right, or all wrong) and submit, confirming the dialog."""
    answers_tick(page, right=right)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('button[name="action"][value="submit"]').click()
    page.wait_for_url(re.compile(r"/attempts/\d+/result/$"))


def module_section(page, order: int):
    return page.locator("section.module").nth(order - 1)


def test_participant_journey(live_server, new_page, site_check, gcio):
    cohort = CohortFactory(course=gcio, name="Angkatan I 2026")
    enrollment = EnrollmentFactory(
        cohort=cohort, participant__full_name="Siti Rahmawati", participant__nip="198503302010011002"
    )
    nip = enrollment.participant.nip
    modules = list(gcio.modules.order_by("order"))
    page = new_page(PHONE)

    page.goto("/")
    site_check.page(page, "01-home")
    page.get_by_role("link", name="Masuk dengan NIP Anda").click()
    site_check.page(page, "02-login")
    log_in(page, nip)
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(page.locator("h1")).to_have_text("Pelatihan saya")
    site_check.page(page, "03-dashboard")

    # The language switch in the top bar: English and back.
    page.select_option("#language-select", "en")
    expect(page.locator("h1")).to_have_text("My courses")
    page.select_option("#language-select", "id")
    expect(page.locator("h1")).to_have_text("Pelatihan saya")

    page.locator("section.card h2 a").first.click()
    expect(page).to_have_url(f"{live_server.url}/learn/{enrollment.pk}/")
    expect(module_section(page, 1)).to_have_class(re.compile(r"\bstate-available\b"))
    for order in (2, 3, 4):
        expect(module_section(page, order)).to_have_class(re.compile(r"\bstate-locked\b"))
    site_check.page(page, "04-course")

    # Module 1: read every lesson, marking each as done.
    lessons = list(modules[0].lessons.order_by("order"))
    module_section(page, 1).locator("ul.lessons a").first.click()
    for number, lesson in enumerate(lessons, start=1):
        expect(page).to_have_url(f"{live_server.url}/lessons/{lesson.pk}/")
        expect(page.locator("article h1")).to_have_text(lesson.title)
        if number == 1:
            site_check.page(page, "05-lesson")
        page.locator(".lesson-actions button").click()
        page.wait_for_load_state("load")
    # After the module's last lesson the participant goes on to the module's quiz.
    expect(page).to_have_url(f"{live_server.url}/quizzes/{modules[0].quiz.pk}/")
    assert LessonCompletion.objects.filter(enrollment=enrollment, lesson__module=modules[0]).count() == len(lessons)
    page.goto(f"/learn/{enrollment.pk}/")
    expect(module_section(page, 1).locator(".done")).to_have_count(len(lessons))

    # The quiz: fail it once…
    module_section(page, 1).locator("a.btn").click()
    expect(page.locator("h1")).to_have_text(modules[0].quiz.title)
    site_check.page(page, "06-quiz")
    page.get_by_role("button", name="Mulai kuis").click()
    expect(page).to_have_url(re.compile(r"/attempts/\d+/$"))
    site_check.page(page, "07-attempt", english_screenshot=True)
    answer_quiz(page, right=False)
    score = page.locator(".quiz-score")
    expect(score).to_have_class(re.compile(r"\bfail\b"))
    expect(score).to_contain_text("Belum lulus")
    expect(score).to_contain_text("Sisa 2 kesempatan")
    expect(page.locator(".quiz-score-value")).to_have_text("0%")
    site_check.page(page, "08-result-not-passed", english_screenshot=True)

    # …then pass it.
    page.get_by_role("button", name="Coba lagi").click()
    expect(page).to_have_url(re.compile(r"/attempts/\d+/$"))
    answer_quiz(page, right=True)
    expect(score).to_have_class(re.compile(r"\bpass\b"))
    expect(score).to_contain_text("Lulus")
    expect(page.locator(".quiz-score-value")).to_have_text("100%")
    site_check.page(page, "09-result-passed")

    # Module 2 is now open on the course page.
    page.get_by_role("link", name="Kembali ke pelatihan").click()
    expect(page).to_have_url(f"{live_server.url}/learn/{enrollment.pk}/")
    expect(module_section(page, 1)).to_have_class(re.compile(r"\bstate-completed\b"))
    expect(module_section(page, 2)).to_have_class(re.compile(r"\bstate-available\b"))
    expect(module_section(page, 2).locator(".badge")).to_have_text("Tersedia")
    expect(module_section(page, 3)).to_have_class(re.compile(r"\bstate-locked\b"))
    site_check.page(page, "10-module-2-unlocked")

    # Modules 2-4: lessons marked done page by page without stopping; the quizzes taken in the browser.
    for module in modules[1:]:
        for lesson in module.lessons.order_by("order"):
            page.goto(f"/lessons/{lesson.pk}/")
            page.locator(".lesson-actions button").click()
            page.wait_for_load_state("load")
        # The module's last lesson leads to its quiz.
        expect(page).to_have_url(f"{live_server.url}/quizzes/{module.quiz.pk}/")
        page.get_by_role("button", name="Mulai kuis").click()
        answer_quiz(page, right=True)
        expect(page.locator(".quiz-score")).to_have_class(re.compile(r"\bpass\b"))
        page.get_by_role("link", name="Kembali ke pelatihan").click()
    # Every module done: the training waits for the action plan, written on its own page.
    enrollment.refresh_from_db()
    assert enrollment.completed_at is None
    expect(page.locator(".action-plan-card .badge")).to_have_text("Belum dikirim")
    page.get_by_role("link", name="Tulis rencana aksi").click()
    expect(page).to_have_url(f"{live_server.url}/learn/{enrollment.pk}/action-plan/")
    site_check.page(page, "11-action-plan")
    page.fill("#id_change", ACTION_PLAN["change"])
    page.fill("#id_lead", ACTION_PLAN["lead"])
    page.fill("#id_due_on", ACTION_PLAN["due_on"])
    page.fill("#id_indicator", ACTION_PLAN["indicator"])
    page.get_by_role("button", name="Kirim rencana aksi").click()
    expect(page.locator(".messages")).to_contain_text("pelatihan dinyatakan selesai")
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    certificate = Certificate.objects.get(enrollment=enrollment)

    # The dashboard links the certificate (issued in-process as the action plan was submitted).
    page.get_by_role("link", name="Pelatihan saya").first.click()
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(page.locator(".progress")).to_have_attribute("aria-valuenow", "100")
    link = page.get_by_role("link", name="Lihat sertifikat Anda")
    expect(link).to_be_visible()
    site_check.page(page, "11-dashboard-completed")
    link.click()  # the completion page: the certificate and what to do with it
    expect(page).to_have_url(f"{live_server.url}/courses/{gcio.slug}/selesai/")
    expect(page.locator(".completion-certificate")).to_contain_text(certificate.number)
    site_check.page(page, "12-completion")
    page.get_by_role("link", name="Lihat dan unduh sertifikat Anda").click()
    expect(page.locator("dl.details")).to_contain_text(certificate.number)
    expect(page.locator("dl.details")).to_contain_text("Siti Rahmawati")
    site_check.page(page, "13-certificate", english_screenshot=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Unduh PDF").click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Siti Rahmawati" in text
    assert nip in text.replace(" ", "")

    # The digital credential beside it: the stored VC-JWT, as a file named like the PDF.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Unduh kredensial (.jwt)").click()
    assert download_info.value.suggested_filename.endswith(".jwt")
    assert Path(download_info.value.path()).read_text() == certificate.credential.token


def test_operator_journey(live_server, new_page, site_check, gcio, operator, tmp_path):
    page = new_page(DESKTOP)
    log_in(page, operator.username)
    expect(page).to_have_url(f"{live_server.url}/operator/cohorts/")  # operators land on their cohorts
    site_check.page(page, "01-cohorts")

    page.select_option("#id_course", label=gcio.title)
    page.fill("#id_name", "Angkatan II 2026")
    page.fill("#id_starts_on", "2026-05-04")
    page.fill("#id_ends_on", "2026-06-26")
    page.get_by_role("button", name="Buat angkatan").click()
    cohort = Cohort.objects.get(name="Angkatan II 2026")
    assert (cohort.course, str(cohort.starts_on), str(cohort.ends_on)) == (gcio, "2026-05-04", "2026-06-26")
    import_url = f"/operator/cohorts/{cohort.pk}/import/"
    expect(page).to_have_url(live_server.url + import_url)
    expect(page.locator(".messages")).to_contain_text("Angkatan II 2026")
    site_check.page(page, "02-import")

    def upload(path: Path) -> None:
        page.set_input_files("#id_file", str(path))
        page.locator("form[enctype] button[type=submit]").click()
        page.wait_for_load_state("load")

    # A file with mistakes: a short NIP (line 3), a bad email (line 4), one NIP twice (lines 2 and 6).
    broken = tmp_path / "peserta-angkatan-ii.csv"
    broken.write_bytes(
        csv_bytes([person(1), person(2, nip="12345"), person(3, email="rusak"), person(4), person(5, nip=nip_for(1))])
    )
    upload(broken)
    expect(page.locator("h2").first).to_contain_text("peserta-angkatan-ii.csv")
    cells = page.locator("section.card table tbody tr").evaluate_all(
        "rows => rows.map(row => [row.cells[0].innerText, row.cells[1].innerText])"
    )
    assert sorted(cells) == [["2", "nip"], ["3", "nip"], ["4", "email"], ["6", "nip"]]
    site_check.page(page, "03-upload-errors", redo=lambda: upload(broken), english_screenshot=True)
    assert not Enrollment.objects.filter(cohort=cohort).exists()

    # The corrected file: the dry run reports what the import will do, and writes nothing.
    fixed = tmp_path / "peserta-angkatan-ii-perbaikan.csv"
    people = [person(n) for n in range(1, 5)]
    fixed.write_bytes(csv_bytes(people))
    upload(fixed)
    report = page.locator("section.card").first
    expect(report).to_contain_text("4 akun peserta baru akan dibuat")
    assert not Enrollment.objects.filter(cohort=cohort).exists()
    site_check.page(page, "04-dry-run", redo=lambda: (page.goto(import_url), upload(fixed)))
    report.get_by_role("button", name=re.compile("Konfirmasi")).click()

    expect(page).to_have_url(f"{live_server.url}/operator/cohorts/{cohort.pk}/")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(len(people))
    for row in people:
        expect(page.locator("table tbody")).to_contain_text(row["nip"])
    assert Enrollment.objects.filter(cohort=cohort).count() == len(people)
    site_check.page(page, "05-cohort")

    # Some progress, so that the chart has bars to draw: one participant through module 1, one lesson for another.
    first, second = Enrollment.objects.filter(cohort=cohort).order_by("participant__nip")[:2]
    module = gcio.modules.order_by("order").first()
    for lesson in module.lessons.all():
        lesson_complete(enrollment=first, lesson=lesson)
    quiz_result_record(enrollment=first, module=module, score_percent=90, passed=True)
    lesson_complete(enrollment=second, lesson=module.lessons.order_by("order").first())

    page.locator(f'a[href="/operator/cohorts/{cohort.pk}/progress/"]').click()
    chart = page.locator(".chart")
    expect(chart).to_be_visible()
    expect(chart.locator(".bar-row")).to_have_count(4)
    expect(chart.locator(".bar-value").first).to_have_text("1 / 4")
    assert chart.locator(".bar > span").first.evaluate("bar => bar.getBoundingClientRect().width") > 0
    expect(page.locator("table.progress-table tbody tr")).to_have_count(len(people))
    site_check.page(page, "06-progress", english_screenshot=True)

    with page.expect_download() as download_info:
        page.locator('a[href^="?format=csv"]').click()
    data = Path(download_info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    # The page's export: headers in the page's language, semicolons for Excel in the Indonesian locale.
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:4] == ["NIP", "Nama", "Unit kerja (OPD)", "Progres (%)"]
    assert sorted(line[0] for line in table[1:]) == sorted(row["nip"] for row in people)


def qr_code_url(pdf: bytes) -> str:
    import pypdfium2
    import zxingcpp

    image = pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil()
    (result,) = zxingcpp.read_barcodes(image)
    return result.text


def test_verifier_journey(live_server, new_page, site_check, gcio, operator, settings):
    # The live server is this test's site: the QR code then holds a URL the browser can open as it is.
    settings.SITE_URL = live_server.url
    enrollment = EnrollmentFactory(
        cohort=CohortFactory(course=gcio, name="Angkatan I 2026"),
        participant__full_name="Budi Santoso",
        participant__nip="197912312005011003",
    )
    for module in gcio.modules.order_by("order"):
        for lesson in module.lessons.all():
            lesson_complete(enrollment=enrollment, lesson=lesson)
        quiz_result_record(enrollment=enrollment, module=module, score_percent=90, passed=True)
    submit_action_plan(enrollment)
    certificate = Certificate.objects.get(enrollment=enrollment)  # issued in-process on completion

    # The QR code on the PDF, as a phone camera would read it, opened exactly as decoded.
    code = code_display(certificate.code)
    url = qr_code_url(certificate.pdf.open("rb").read())
    assert url == f"{settings.SITE_URL}/verify/{code}/"
    verifier = new_page(PHONE)
    verifier.goto(url)
    assert verifier.url == url
    verdict = verifier.locator(".verdict")
    expect(verdict).to_have_class(re.compile(r"\bverdict-valid\b"))
    expect(verdict).to_contain_text("Sertifikat sah")
    expect(verifier.locator("dl.details")).to_contain_text("Budi Santoso")
    expect(verifier.locator("dl.details")).to_contain_text(certificate.number)
    site_check.page(verifier, "01-valid", english_screenshot=True)

    # The same certificate found by typing its code on the verification form.
    verifier.goto("/verify/")
    site_check.page(verifier, "02-verify-form")
    verifier.fill("#code", code.lower())
    verifier.get_by_role("button", name="Verifikasi", exact=True).click()
    expect(verifier.locator(".verdict")).to_contain_text("Sertifikat sah")

    # The same certificate from its digital credential (the .jwt the holder handed over), pasted.
    verifier.goto("/verify/")
    verifier.fill("#credential-text", certificate.credential.token)
    verifier.get_by_role("button", name="Verifikasi kredensial").click()
    expect(verifier.locator(".verdict").first).to_contain_text("Tanda tangan kredensial asli")
    expect(verifier.locator(".verdict").last).to_contain_text("Sertifikat sah")
    site_check.page(verifier, "02b-credential", english_screenshot=True)

    # An operator revokes it from the cohort's certificates page, on a phone too.
    staff = new_page(PHONE)
    log_in(staff, operator.username)
    staff.goto(f"/operator/cohorts/{enrollment.cohort_id}/certificates/")
    row = staff.locator("table tbody tr", has_text=certificate.number)
    expect(row).to_contain_text("Sah")
    site_check.page(staff, "03-operator-certificates", english_screenshot=True)
    reason = "Diterbitkan untuk peserta yang salah"
    row.get_by_placeholder("Alasan pencabutan").fill(reason)
    staff.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Cabut").click()
    expect(staff.locator(".messages")).to_contain_text(f"Sertifikat {certificate.number} telah dicabut.")
    expect(row).to_contain_text(reason)
    site_check.page(staff, "04-operator-revoked")
    certificate.refresh_from_db()
    assert (certificate.status, certificate.revoked_reason) == ("revoked", reason)

    # The verifier opens the QR code's URL again: revoked, with the reason.
    verifier.goto(url)
    expect(verdict).to_have_class(re.compile(r"\bverdict-revoked\b"))
    expect(verdict).to_contain_text("Sertifikat dicabut")
    expect(verdict).to_contain_text(reason)
    site_check.page(verifier, "05-revoked", english_screenshot=True)


def test_admin_works_under_the_content_security_policy(live_server, new_page, gcio, operator):
    """The admin's own scripts are static files: its login, a change list with its actions and a change form
    work with the policy on (``new_page`` fails the test on anything the policy blocks)."""
    admin = UserFactory(username="admin1", is_staff=True, is_superuser=True)
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=gcio))
    for module in gcio.modules.order_by("order"):
        for lesson in module.lessons.all():
            lesson_complete(enrollment=enrollment, lesson=lesson)
        quiz_result_record(enrollment=enrollment, module=module, score_percent=90, passed=True)
    submit_action_plan(enrollment)
    certificate = Certificate.objects.get(enrollment=enrollment)
    page = new_page(DESKTOP)
    page.goto("/admin/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")

    page.goto("/admin/certificates/certificate/")
    # actions.js: ticking a row counts it in the action bar.
    page.locator("input.action-select").first.check()
    expect(page.locator(".action-counter")).to_contain_text("1")
    page.select_option("select[name=action]", "revoke_selected")
    page.locator("button[name=index]").click()
    expect(page.locator("#content h1")).to_have_text("Cabut sertifikat")
    page.fill("#id_reason", "Salah penerima")
    page.locator("input[type=submit]").click()
    certificate.refresh_from_db()
    assert (certificate.status, certificate.revoked_reason) == ("revoked", "Salah penerima")

    # A change form with the admin's widgets: SelectFilter2.js builds the two-list group picker.
    page.goto(f"/admin/auth/user/{operator.pk}/change/")
    expect(page.locator("#id_groups_from")).to_be_visible()
    expect(page.locator("#id_groups_to option")).to_have_text(["operators"])
