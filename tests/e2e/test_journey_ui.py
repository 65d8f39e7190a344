"""The participant's pages in a real browser at phone width: the top bar in two rows at 390 px, axe-core on
each page, a quiz taken with the keyboard alone, autosave through a lost connection, a lesson under
100 KB that is usable on a slow 3G connection, and the API docs under the Content-Security-Policy.

Screenshots of each page at 390 px go to ``test-artifacts/screenshots/phone390-*.png``.
"""

import io
import re
import time

import pytest
from django.core.management import call_command

from assessments.models import Answer, Attempt, AttemptStatus
from courses.models import Course, Lesson, LessonCompletion
from tests.assessments.conftest import answer_key, build_quiz
from tests.e2e.conftest import DESKTOP, SCREENSHOTS, import_playwright, log_in
from tests.factories import EnrollmentFactory, LessonFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

playwright = import_playwright()
expect = playwright.expect

PHONE_390 = {"width": 390, "height": 844}
# Chrome DevTools' "Slow 3G": 2 s round trip, about 400 kbit/s each way.
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"phone390-{name}.png"), full_page=True)


_HEADER_ROWS_JS = r"""() => {
  const bar = document.querySelector('header.topbar .inner');
  const items = [...bar.querySelectorAll('.brand, .language, .menu > *')].filter(el => el.offsetParent !== null);
  // Rows by the items' vertical middles: a button and a link on one row differ in height, not in middle.
  const middles = [...new Set(items.map(el => { const b = el.getBoundingClientRect(); return Math.round((b.top + b.height / 2) / 16); }))];
  return {rows: middles.length, height: Math.round(bar.getBoundingClientRect().height),
          scrollWidth: document.documentElement.scrollWidth};
}"""


def assert_header_fits(page, where: str) -> None:
    header = page.evaluate(_HEADER_ROWS_JS)
    assert header["rows"] <= 2 and header["height"] <= 120, f"{where}: the top bar takes {header}"
    assert header["scrollWidth"] <= PHONE_390["width"], f"{where}: the page is {header['scrollWidth']} px wide"


@pytest.fixture
def quiz_setup():
    quiz = build_quiz(questions=3, time_limit_minutes=10)
    LessonFactory(module=quiz.module, order=1, title="Pengantar", body="Isi **materi** singkat.")
    enrollment = EnrollmentFactory(
        cohort__course=quiz.module.course,
        participant__full_name="Dr. Ir. Muhammad Sa'duddin Al-Banjari, M.Si.",
        participant__nip="198503302010011002",
    )
    return quiz, enrollment


def test_axe_fails_a_page_that_breaks_the_rules(new_page, accessibility):
    """The check can fail: an image without text and an unlabelled field are reported."""
    page = new_page(PHONE_390)
    page.goto("/")
    page.evaluate(
        "() => { const img = document.createElement('img'); img.src = '/static/courses/favicon.svg';"
        " document.querySelector('main').append(img, document.createElement('input')); }"
    )
    with pytest.raises(AssertionError, match=r"image-alt \(critical\)"):
        accessibility.check(page, "broken page")


def test_pages_at_390_px(live_server, new_page, accessibility, quiz_setup):
    """Each page changed by the journey's redesign, at 390 px: two header rows at most, no sideways scroll,
    no serious axe violation; a screenshot of each for a person to look at."""
    quiz, enrollment = quiz_setup
    operator = UserFactory(username="operator390")
    from django.contrib.auth.models import Group

    operator.groups.add(Group.objects.get(name="operators"))
    page = new_page(PHONE_390)

    def visit(name: str) -> None:
        page.wait_for_load_state("load")
        assert_header_fits(page, name)
        accessibility.check(page, name)
        screenshot(page, name)

    page.goto("/")
    expect(page.get_by_role("link", name="Periksa keaslian sertifikat")).to_have_attribute("href", "/verify/")
    visit("home")
    page.goto("/tidak-ada/")
    expect(page.locator("h1")).to_have_text("Halaman tidak ditemukan")
    visit("404")
    page.goto("/accounts/password-reset/")
    visit("reset-form")
    page.fill("#id_email", "1985 0330")
    page.get_by_role("button", name="Kirim tautan").click()
    expect(page.locator(".errorlist")).to_contain_text("NIP terdiri atas 18 angka")
    visit("reset-form-error")
    page.fill("#id_email", "1985 0330 2010 0110 02")
    page.get_by_role("button", name="Kirim tautan").click()
    expect(page.locator("h1")).to_have_text("Periksa surel Anda")
    visit("reset-sent")
    page.goto("/accounts/login/")
    page.fill("#id_username", enrollment.participant.nip)
    page.fill("#id_password", "salah")
    page.locator("main form").get_by_role("button").click()
    expect(page.locator(".errorlist")).to_contain_text("NIP atau kata sandi salah.")
    visit("login-error")

    log_in(page, enrollment.participant.nip)
    visit("dashboard")
    page.goto(f"/lessons/{quiz.module.lessons.get().pk}/")
    visit("lesson")
    page.goto(f"/quizzes/{quiz.pk}/")
    visit("quiz")
    page.get_by_role("button", name="Mulai kuis").click()
    expect(page.locator("#quiz-timer")).to_contain_text("WITA")
    visit("attempt")
    page.goto("/operator/cohorts/")
    expect(page.locator("h1")).to_have_text("Akses ditolak")
    visit("403")
    page.select_option("#language-select", "en")
    expect(page.locator("h1")).to_have_text("Access denied")
    visit("403-en")

    staff = new_page(PHONE_390)
    log_in(staff, operator.username)
    assert_header_fits(staff, "operator-cohorts")
    accessibility.check(staff, "operator-cohorts")
    staff.screenshot(path=str(SCREENSHOTS / "phone390-operator-cohorts.png"), full_page=True)


def test_the_language_choice_follows_the_participant_to_another_device(live_server, new_page, quiz_setup):
    _, enrollment = quiz_setup
    laptop = new_page()
    log_in(laptop, enrollment.participant.nip)
    laptop.select_option("#language-select", "en")
    expect(laptop.locator("h1")).to_have_text("My courses")
    phone = new_page(PHONE_390)  # a fresh browser: no cookie
    log_in(phone, enrollment.participant.nip)
    expect(phone.locator("h1")).to_have_text("My courses")
    expect(phone.locator("html")).to_have_attribute("lang", "en")


_FOCUS_JS = r"""() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), type: el.type || '', value: el.value || '', name: el.name || '',
          text: (el.innerText || '').trim(), checked: !!el.checked,
          question: el.closest('[data-question]') ? el.closest('[data-question]').dataset.question : '',
          focusVisible: el.matches(':focus-visible'),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
}"""


def test_a_quiz_taken_with_the_keyboard_alone(live_server, new_page, accessibility, quiz_setup):
    quiz, enrollment = quiz_setup
    key = {str(question): {str(c) for c in choices} for question, choices in answer_key(quiz).items()}
    page = new_page(PHONE_390)
    log_in(page, enrollment.participant.nip)
    page.goto(f"/quizzes/{quiz.pk}/")

    def tab_to(predicate, limit: int = 60) -> dict:
        for _ in range(limit):
            page.keyboard.press("Tab")
            focused = page.evaluate(_FOCUS_JS)
            assert focused["focusVisible"] and focused["outline"], f"focus not visible on {focused}"
            if predicate(focused):
                return focused
        raise AssertionError("never reached by Tab")

    tab_to(lambda f: f["tag"] == "button" and f["text"] == "Mulai kuis")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    accessibility.check(page, "attempt")
    assert page.locator("fieldset[data-question] > legend").count() == 3

    answered: set[str] = set()
    focused = tab_to(lambda f: bool(f["question"]))
    while True:
        question = focused["question"]
        if focused["type"] == "radio":
            # A radio group is one Tab stop: the arrow keys move through it, choosing as they go.
            for _ in range(6):
                if focused["value"] in key[question]:
                    break
                page.keyboard.press("ArrowDown")
                focused = page.evaluate(_FOCUS_JS)
            page.keyboard.press("Space")
            assert page.evaluate(_FOCUS_JS)["checked"]
        elif focused["value"] in key[question]:
            page.keyboard.press("Space")  # a checkbox: each is its own Tab stop
        answered.add(question)
        focused = tab_to(lambda f: bool(f["question"]) or f["tag"] == "button")
        if focused["tag"] == "button":
            break
    assert answered == set(key)
    focused = tab_to(lambda f: f["tag"] == "button" and f["value"] == "submit", limit=3)
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/attempts/\d+/result/$"))
    expect(page.locator(".quiz-score-value")).to_have_text("100%")
    accessibility.check(page, "result")


def attempt_started(new_page, quiz_setup):
    """The participant's phone on the attempt page of the quiz just started, and the attempt."""
    quiz, enrollment = quiz_setup
    page = new_page(PHONE_390)
    log_in(page, enrollment.participant.nip)
    page.goto(f"/quizzes/{quiz.pk}/")
    page.get_by_role("button", name="Mulai kuis").click()
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    return page, Attempt.objects.get(status=AttemptStatus.IN_PROGRESS)


def test_the_timer_speaks_at_thresholds_only(live_server, new_page, quiz_setup):
    page, attempt = attempt_started(new_page, quiz_setup)
    expect(page.locator("#quiz-timer-value")).to_have_attribute("aria-hidden", "true")
    alert = page.locator("#quiz-timer-alert")
    expect(alert).to_have_attribute("aria-live", "polite")
    expect(alert).to_have_text("")
    # Five minutes and one second before the end: nothing yet; then the five-minute line, once.
    from tests.assessments.helpers import move_deadline

    move_deadline(attempt, seconds_from_now=302)
    page.reload()
    expect(alert).to_have_text("")
    expect(alert).to_have_text(re.compile(r"^Sisa waktu 5 menit: kirim sebelum \d\d\.\d\d WITA\.$"), timeout=8000)
    changes = page.evaluate(
        "() => new Promise(done => { let n = 0; const line = document.getElementById('quiz-timer-alert');"
        " new MutationObserver(() => n++).observe(line, {childList: true, characterData: true, subtree: true});"
        " setTimeout(() => done(n), 3000); })"
    )
    assert changes == 0  # the clock ticks on, the live line stays quiet


def test_autosave_survives_a_lost_connection(live_server, new_page, quiz_setup):
    page, attempt = attempt_started(new_page, quiz_setup)
    status = page.locator("#quiz-save-status")
    fieldsets = page.locator("fieldset[data-question]")
    first_question = fieldsets.first.get_attribute("data-question")
    chosen = fieldsets.first.locator("input").nth(1)
    choice_id = int(chosen.get_attribute("value"))

    page.context.set_offline(True)
    chosen.check()
    expect(status).to_contain_text("Anda sedang luring")
    screenshot(page, "attempt-offline")
    time.sleep(2.5)  # a retry falls in the outage too
    assert not Answer.objects.filter(attempt=attempt).exists()
    # Submitting while offline keeps everything on the page.
    page.locator('button[name="action"][value="submit"]').click()
    expect(status).to_contain_text("jawaban belum dapat dikirim")
    expect(page).to_have_url(re.compile(r"/attempts/\d+/$"))

    page.context.set_offline(False)
    expect(status).to_have_text("Semua jawaban tersimpan.")
    saved = Answer.objects.get(attempt=attempt, question_id=int(first_question))
    assert saved.choice_ids == [choice_id]
    page.reload()
    expect(page.locator(f'input[value="{choice_id}"]')).to_be_checked()


@pytest.fixture
def gcio_lesson() -> Lesson:
    call_command("loadcurriculum", stdout=io.StringIO())
    course = Course.objects.get(slug="gcio")
    # The longest lesson of the first module (the one a new participant may open).
    return max(course.modules.order_by("order").first().lessons.all(), key=lambda lesson: len(lesson.body))


def test_a_lesson_page_weighs_under_100_kb(live_server, new_page, gcio_lesson):
    enrollment = EnrollmentFactory(cohort__course=gcio_lesson.module.course)
    page = new_page(PHONE_390)
    log_in(page, enrollment.participant.nip)
    requests = []
    page.on("requestfinished", lambda request: requests.append(request))
    page.goto(f"/lessons/{gcio_lesson.pk}/")
    page.wait_for_load_state("networkidle")
    sizes = {}
    for request in requests:
        size = request.sizes()
        sizes[request.url] = size["responseBodySize"] + size["responseHeadersSize"]
    total = sum(sizes.values())
    kinds = {request.resource_type for request in requests}
    assert {"document", "stylesheet", "script"} <= kinds
    assert total < 100_000, f"{total} bytes: {sizes}"
    assert not [r.url for r in requests if r.resource_type == "font"]  # system fonts only


def test_a_lesson_is_usable_on_slow_3g(live_server, new_page, gcio_lesson):
    enrollment = EnrollmentFactory(cohort__course=gcio_lesson.module.course)
    page = new_page(PHONE_390)
    log_in(page, enrollment.participant.nip)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    started = time.monotonic()
    page.goto(f"/lessons/{gcio_lesson.pk}/", wait_until="domcontentloaded", timeout=60_000)
    button = page.locator(".lesson-actions button")
    expect(button).to_be_visible(timeout=20_000)
    expect(page.locator("article h1")).to_have_text(gcio_lesson.title)
    page.wait_for_load_state("load", timeout=30_000)
    usable_after = time.monotonic() - started
    # Three round trips (the page, then its stylesheet and script together): about 6 s on Slow 3G.
    assert usable_after < 12, f"usable after {usable_after:.1f} s"
    button.click()
    page.wait_for_load_state("load", timeout=30_000)
    assert LessonCompletion.objects.filter(enrollment=enrollment, lesson=gcio_lesson).exists()


def test_the_api_docs_render_under_the_content_security_policy(live_server, new_page):
    """Swagger UI and ReDoc list the operations; ``new_page`` fails the test on any CSP violation."""
    page = new_page(DESKTOP)
    # ReDoc's side menu shows Redocly's logo from Redocly's site: the test machine reaches no other host.
    page.route("https://cdn.redoc.ly/**", lambda route: route.abort())
    page.goto("/api/v1/docs/")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=30_000)
    assert operations.count() >= 10
    expect(page.locator(".opblock-summary-path").first).to_contain_text("/api/v1/")
    page.screenshot(path=str(SCREENSHOTS / "api-docs-swagger.png"))

    page.goto("/api/v1/redoc/")
    expect(page.locator("[data-section-id^='operation/']").first).to_be_attached(timeout=30_000)
    assert page.locator("[data-section-id^='operation/']").count() >= 10
    # The search (its index is built in the blob: worker) finds an operation.
    page.get_by_role("textbox", name="Search").fill("verify")
    expect(page.get_by_role("search").get_by_role("menuitem", name="verify")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "api-docs-redoc.png"))
