"""No English stock Django message on any Indonesian participant page: every page a participant sees, its
error states included, rendered in Indonesian and searched for Django's own English messages."""

import re
from pathlib import Path

import django
import polib
import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from assessments.services import attempt_start, attempt_submit
from certificates.codes import code_display
from courses.models import Enrollment
from courses.services import lesson_complete
from tests.assessments.conftest import build_quiz, right_answers
from tests.factories import CertificateFactory, CohortFactory, EnrollmentFactory, LessonFactory, ModuleFactory

pytestmark = pytest.mark.django_db

DJANGO = Path(django.__file__).resolve().parent
NIP = "198503302010011002"
PASSWORD = "correct horse battery"

# Django's stock English that a participant could meet (forms, validators, auth, pagination, errors).
STOCK_ENGLISH = [
    "This field is required",
    "Enter a valid",
    "Please enter the correct",
    "Please enter a correct",
    "password is too similar",
    "password is too short",
    "password is too common",
    "password is entirely numeric",
    "can’t be too similar",
    "didn’t match",
    "Ensure this value",
    "This account is inactive",
    "Select a valid choice",
    "Enter the same password as before",
    "Password confirmation",
    "New password",
    "Reset password",
    "Page not found",
    "Server Error",
    "Forbidden",
    "CSRF verification failed",
    "Log in",
    "Password",
]


def django_catalogue_phrases() -> set[str]:
    """Django's own English msgids of the auth, forms and core catalogues (runs of three words or more)."""
    phrases = set()
    for path in (
        DJANGO / "conf/locale/id/LC_MESSAGES/django.po",
        DJANGO / "contrib/auth/locale/id/LC_MESSAGES/django.po",
    ):
        for entry in polib.pofile(str(path)):
            for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
                for part in re.split(r"%\(\w+\)[sdr]|%[sd]|\{\w*\}", msgid):
                    part = " ".join(part.split()).strip(" .:,;“”\"'")
                    if len(part.split()) >= 3:
                        phrases.add(part)
    return phrases


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    # Attributes people hear or see (placeholders, labels, confirm dialogs) count as well.
    attributes = " ".join(re.findall(r'(?:aria-label|placeholder|title|data-[\w-]+)="([^"]*)"', html))
    text = re.sub(r"<[^>]+>", " ", html) + " " + attributes
    return " ".join(text.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&").split())


@pytest.fixture
def journey():
    """A participant one module into a two-module course: pages in every state a participant meets."""
    first = build_quiz(questions=3, max_attempts=1, title="Kuis satu", module=ModuleFactory(order=1))
    course = first.module.course
    LessonFactory(module=first.module, order=1, title="Materi satu")
    second = build_quiz(questions=3, title="Kuis dua", module=ModuleFactory(course=course, order=2))
    LessonFactory(module=second.module, order=1, title="Materi dua")
    cohort = CohortFactory(course=course, contact_name="Rina", contact_email="rina@example.go.id")
    enrollment = EnrollmentFactory(
        cohort=cohort,
        participant__nip=NIP,
        participant__full_name="Siti Rahmawati",
        participant__user__email="rahmawati.siti@example.org",
    )
    return enrollment, first, second


def pages_of(client, enrollment, first, second, capture) -> dict[str, str]:
    """Every participant page, in Indonesian, keyed by a name; error states included."""
    user = enrollment.participant.user
    get = lambda url, **kw: client.get(url, HTTP_ACCEPT_LANGUAGE="id", **kw)  # noqa: E731
    post = lambda url, data: client.post(url, data, HTTP_ACCEPT_LANGUAGE="id", follow=True)  # noqa: E731
    pages = {
        "home": get("/"),
        "login": get("/accounts/login/"),
        "login-empty": post("/accounts/login/", {"username": "", "password": ""}),
        "login-wrong": post("/accounts/login/", {"username": NIP, "password": "salah"}),
        "reset": get("/accounts/password-reset/"),
        "reset-empty": post("/accounts/password-reset/", {"email": ""}),
        "reset-bad": post("/accounts/password-reset/", {"email": "bukan@"}),
        "reset-sent": post("/accounts/password-reset/", {"email": NIP}),
        "verify": get("/verify/"),
        "verify-unknown": get("/verify/ABCD-EFGH-JKLM/"),
        "not-found": get("/tidak-ada/"),
    }
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    set_url = get(f"/accounts/reset/{uid}/{default_token_generator.make_token(user)}/")["Location"]
    pages["set-password"] = get(set_url)
    for name, (one, two) in {
        "set-empty": ("", ""),
        "set-mismatch": ("Kaltim-Berdaulat-2026", "Kaltim-Berdaulat-2062"),
        "set-short": ("Kt-26", "Kt-26"),
        "set-common": ("password123", "password123"),
        "set-numeric": ("73829461038", "73829461038"),
        "set-similar": ("rahmawati.siti", "rahmawati.siti"),
    }.items():
        pages[name] = post(set_url, {"new_password1": one, "new_password2": two})
    pages["set-done"] = get("/accounts/password-set/")

    client.force_login(user)
    pages["dashboard"] = get("/dashboard/")
    pages["course"] = get(f"/learn/{enrollment.pk}/")
    lesson = first.module.lessons.get()
    pages["lesson"] = get(f"/lessons/{lesson.pk}/")
    lesson_complete(enrollment=enrollment, lesson=lesson)
    pages["lesson-done"] = get(f"/lessons/{lesson.pk}/")
    pages["locked-lesson"] = get(f"/lessons/{second.module.lessons.get().pk}/")
    pages["quiz"] = get(f"/quizzes/{first.pk}/")
    attempt = attempt_start(user=user, quiz=first).attempt
    pages["attempt"] = get(f"/attempts/{attempt.pk}/")
    pages["attempt-bad-answer"] = post(f"/attempts/{attempt.pk}/", {"q-1": "x", "action": "save"})
    with capture(execute=True):
        attempt_submit(attempt=attempt, answers=right_answers(first, wrong=3))  # the only attempt, failed
    pages["result-failed-last"] = get(f"/attempts/{attempt.pk}/result/")
    pages["quiz-no-attempts"] = get(f"/quizzes/{first.pk}/")
    pages["help"] = get(f"/learn/{enrollment.pk}/modules/{first.module.pk}/help/")
    pages["dashboard-help"] = get("/dashboard/")
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=timezone.now())
    certificate = CertificateFactory(enrollment=enrollment)
    pages["completion"] = get(f"/courses/{first.module.course.slug}/selesai/")
    pages["certificate"] = get(f"/certificates/{code_display(certificate.code)}/")
    pages["forbidden"] = get("/operator/cohorts/")
    redirected = {name: response["Location"] for name, response in pages.items() if response.status_code in (301, 302)}
    assert redirected == {}
    statuses = {name: response.status_code for name, response in pages.items() if response.status_code != 200}
    assert statuses == {"not-found": 404, "verify-unknown": 404, "locked-lesson": 403, "forbidden": 403}
    return {name: response.content.decode() for name, response in pages.items()}


def test_no_english_stock_django_message_on_an_indonesian_participant_page(
    client, journey, django_capture_on_commit_callbacks
):
    enrollment, first, second = journey
    pages = pages_of(client, enrollment, first, second, django_capture_on_commit_callbacks)
    phrases = set(STOCK_ENGLISH) | django_catalogue_phrases()
    leaks = {}
    for name, html in pages.items():
        assert '<html lang="id">' in html, name
        text = visible_text(html)
        found = sorted(phrase for phrase in phrases if phrase in text)
        if found:
            leaks[name] = found
    assert leaks == {}
    # The error states did render their (Indonesian) messages: the check looked at real errors.
    assert "NIP atau kata sandi salah" in pages["login-wrong"]
    assert "Kedua kata sandi yang Anda ketik tidak sama." in pages["set-mismatch"]
    assert "Kata sandi terlalu mirip" in pages["set-similar"]
    assert "Anda memerlukan bantuan untuk melanjutkan" in pages["help"]


def test_the_check_finds_a_stock_message():
    """The search can fail: Django's English for a required field is among the phrases looked for."""
    phrases = set(STOCK_ENGLISH) | django_catalogue_phrases()
    text = visible_text("<ul class='errorlist'><li>This field is required.</li></ul>")
    assert [p for p in phrases if p in text]
    assert "Enter a valid email address" in django_catalogue_phrases()
