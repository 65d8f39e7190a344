"""A NUL character in any text input of any endpoint is refused with 400 (PostgreSQL text cannot hold one)."""

from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from assessments.models import Answer, Attempt
from assessments.services import attempt_start
from certificates.codes import code_display
from certificates.models import Certificate, CertificateArchive
from courses.models import Cohort, Enrollment, LessonCompletion, ParticipantProfile
from tests.certificates.conftest import complete
from tests.courses.enrollment_files import csv_bytes, person
from tests.factories import CohortFactory, EnrollmentFactory, UserFactory, course_with_modules

pytestmark = pytest.mark.django_db

NUL = "\x00"
REFUSED_EN = "The request contains a NUL character, which no field accepts."
REFUSED_ID = "Permintaan ini memuat karakter NUL, yang tidak diterima oleh isian mana pun."


def form(**fields: str) -> dict:
    """An application/x-www-form-urlencoded body, as a browser posts a form."""
    return {"data": urlencode(fields), "content_type": "application/x-www-form-urlencoded"}


def json(body: dict) -> dict:
    return {"data": body, "format": "json"}


def multipart(**fields) -> dict:
    return {"data": fields, "format": "multipart"}


@pytest.fixture
def world(django_capture_on_commit_callbacks) -> dict:
    """A course with a certificate holder, a participant in the middle of a quiz, an operator and an admin."""
    cache.clear()  # the verification throttle counts in the cache
    course = course_with_modules(questions=1, quiz={"max_attempts": 5}, slug="gcio-test", certificate_prefix="GCIO-NUL")
    modules = list(course.modules.order_by("order"))
    cohort = CohortFactory(course=course)
    holder = EnrollmentFactory(cohort=cohort)
    with django_capture_on_commit_callbacks(execute=True):
        complete(holder)
    learner = EnrollmentFactory(cohort=cohort, participant__unit="Bappeda")
    quiz = modules[0].quiz
    attempt = attempt_start(user=learner.participant.user, quiz=quiz).attempt
    operator = UserFactory(username="operator-nul")
    operator.groups.add(Group.objects.get(name="operators"))
    admin = UserFactory(username="admin-nul", is_staff=True, is_superuser=True)
    return {
        "users": {"holder": holder.participant.user, "learner": learner.participant.user, "operator": operator},
        "admin": admin,
        "cohort": cohort.pk,
        "lesson": modules[0].lessons.get().pk,
        "quiz": quiz.pk,
        "question": quiz.questions.get().pk,
        "attempt": attempt.pk,
        "code": code_display(Certificate.objects.get(enrollment=holder).code),
        "nip": holder.participant.nip,
    }


def csv_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("peserta.csv", csv_bytes([person(1)]), content_type="text/csv")


# (who, method, path, request arguments, expected status). Paths are formatted with the ``world``.
# 404 only where the NUL makes a path segment that no URL matches (a slug, an int); every other
# input that holds one is a 400.
CASES = {
    # API: JSON and form bodies, multipart fields, query parameters, path parameters, headers.
    "token-json-username": (None, "post", "/api/v1/auth/token/", json({"username": f"a{NUL}", "password": "x"}), 400),
    "token-form-password": (None, "post", "/api/v1/auth/token/", form(username="a", password=f"x{NUL}"), 400),
    "cohort-json-course": (
        "operator",
        "post",
        "/api/v1/cohorts/",
        json({"name": "Angkatan", "course": f"gcio{NUL}", "starts_on": "2026-05-04", "ends_on": "2026-06-26"}),
        400,
    ),
    "cohort-json-name": (
        "operator",
        "post",
        "/api/v1/cohorts/",
        json({"name": f"Angkatan{NUL}", "course": "gcio-test", "starts_on": "2026-05-04", "ends_on": "2026-06-26"}),
        400,
    ),
    "cohort-json-date": (
        "operator",
        "post",
        "/api/v1/cohorts/",
        json({"name": "Angkatan", "course": "gcio-test", "starts_on": f"2026-05-04{NUL}", "ends_on": "2026-06-26"}),
        400,
    ),
    "cohort-multipart-course": (
        "operator",
        "post",
        "/api/v1/cohorts/",
        multipart(name="Angkatan", course=f"gcio-test{NUL}", starts_on="2026-05-04", ends_on="2026-06-26"),
        400,
    ),
    "cohort-form-course": (
        "operator",
        "post",
        "/api/v1/cohorts/",
        form(name="Angkatan", course=f"gcio-test{NUL}", starts_on="2026-05-04", ends_on="2026-06-26"),
        400,
    ),
    "cohorts-query": ("operator", "get", "/api/v1/cohorts/?search=%00", {}, 400),
    "import-dry-run": (
        "operator",
        "post",
        "/api/v1/cohorts/{cohort}/enrollments/import/?dry_run=1%00",
        {"data": {"file": csv_upload()}, "format": "multipart"},
        400,
    ),
    "progress-format": ("operator", "get", "/api/v1/cohorts/{cohort}/progress/?format=csv%00", {}, 400),
    "course-slug": ("learner", "get", "/api/v1/courses/gcio%00/", {}, 404),
    "course-query": ("learner", "get", "/api/v1/courses/?q=%00", {}, 400),
    "lesson-query": ("learner", "get", "/api/v1/lessons/{lesson}/?q=%00", {}, 400),
    "lesson-complete-query": ("learner", "post", "/api/v1/lessons/{lesson}/complete/?then=%00", {}, 400),
    "enrollments-query": ("learner", "get", "/api/v1/me/enrollments/?page=%00", {}, 400),
    "quiz-query": ("operator", "get", "/api/v1/quizzes/{quiz}/?x=%00", {}, 400),
    "attempt-start-query": ("learner", "post", "/api/v1/quizzes/{quiz}/attempts/?x=%00", {}, 400),
    "answers-json": (
        "learner",
        "put",
        "/api/v1/attempts/{attempt}/answers/",
        json({"answers": [{"question": f"{{question}}{NUL}", "choices": []}]}),
        400,
    ),
    "submit-json": (
        "learner",
        "post",
        "/api/v1/attempts/{attempt}/submit/",
        json({"answers": [{"question": "{question}", "choices": [f"1{NUL}"]}]}),
        400,
    ),
    "submit-json-key": ("learner", "post", "/api/v1/attempts/{attempt}/submit/", json({f"answers{NUL}": []}), 400),
    "my-certificates-query": ("holder", "get", "/api/v1/me/certificates/?x=%00", {}, 400),
    "pdf-code": ("holder", "get", "/api/v1/certificates/{code}%00/pdf/", {}, 400),
    "revoke-json": ("operator", "post", "/api/v1/certificates/{code}/revoke/", json({"reason": f"Salah{NUL}"}), 400),
    "revoke-form": ("operator", "post", "/api/v1/certificates/{code}/revoke/", form(reason=f"Salah{NUL}"), 400),
    "reissue-query": ("operator", "post", "/api/v1/certificates/{code}/reissue/?x=%00", {}, 400),
    "verify-api-code": (None, "get", "/api/v1/verify/{code}%00/", {}, 400),
    "archive-query": ("operator", "post", "/api/v1/cohorts/{cohort}/certificates/archive/?x=%00", {}, 400),
    "schema-query": (None, "get", "/api/v1/schema/?format=%00", {}, 400),
    "token-header": (None, "get", "/api/v1/me/enrollments/", {"HTTP_AUTHORIZATION": f"Token abc{NUL}def"}, 400),
    "language-header": (None, "get", "/api/v1/verify/{code}/", {"HTTP_ACCEPT_LANGUAGE": f"en{NUL}"}, 400),
    "forwarded-header": (None, "get", "/verify/{code}/", {"HTTP_X_FORWARDED_FOR": f"203.0.113.9{NUL}"}, 400),
    "healthz-query": (None, "get", "/healthz?x=%00", {}, 400),
    # Pages: query parameters, path parameters and form posts.
    "home-query": (None, "get", "/?next=%00", {}, 400),
    "course-page-slug": (None, "get", "/courses/gcio%00/", {}, 404),
    "login-username": (None, "post", "/accounts/login/", form(username=f"{{nip}}{NUL}", password="x"), 400),
    "login-password": (None, "post", "/accounts/login/", form(username="{nip}", password=f"x{NUL}"), 400),
    "login-multipart": (None, "post", "/accounts/login/", multipart(username="{nip}", password=f"x{NUL}"), 400),
    "login-next": (None, "get", "/accounts/login/?next=/dashboard/%00", {}, 400),
    "password-reset": (None, "post", "/accounts/password-reset/", form(email=f"a@example.org{NUL}"), 400),
    "password-reset-link": (None, "get", "/accounts/reset/MQ%00/set-password/", {}, 400),
    "invitation-link": (None, "get", "/accounts/invitation/MQ/abc%00/", {}, 400),
    "language-form": (None, "post", "/i18n/setlang/", form(language=f"en{NUL}", next="/"), 400),
    "dashboard-query": ("learner", "get", "/dashboard/?x=%00", {}, 400),
    "session-cookie": ("cookie", "get", "/dashboard/", {}, 400),
    "enrollment-page-id": ("learner", "get", "/learn/1%00/", {}, 404),
    "lesson-page-form": ("learner", "post", "/lessons/{lesson}/", form(then=f"next{NUL}"), 400),
    "quiz-page-query": ("learner", "get", "/quizzes/{quiz}/?x=%00", {}, 400),
    "attempt-page-form": ("learner", "post", "/attempts/{attempt}/", form(**{"q-{question}": f"1{NUL}"}), 400),
    "attempt-page-action": ("learner", "post", "/attempts/{attempt}/", form(action=f"save{NUL}"), 400),
    "result-page-query": ("learner", "get", "/attempts/{attempt}/result/?x=%00", {}, 400),
    "verify-form-code": (None, "get", "/verify/?code=%00", {}, 400),
    "verify-form-code-inside": (None, "get", "/verify/?code=7KQ2-9XW4%00-M3HD", {}, 400),
    "verify-page-code": (None, "get", "/verify/{code}%00/", {}, 400),
    "certificate-page-code": ("holder", "get", "/certificates/{code}%00/", {}, 400),
    "operator-cohorts-form": (
        "operator",
        "post",
        "/operator/cohorts/",
        form(course="1", name=f"Angkatan{NUL}", starts_on="2026-05-04", ends_on="2026-06-26"),
        400,
    ),
    "operator-cohort-q": ("operator", "get", "/operator/cohorts/{cohort}/?q=%00", {}, 400),
    "operator-cohort-unit": ("operator", "get", "/operator/cohorts/{cohort}/?unit=Bappeda%00", {}, 400),
    "operator-cohort-page": ("operator", "get", "/operator/cohorts/{cohort}/?page=%00", {}, 400),
    "operator-progress-unit": ("operator", "get", "/operator/cohorts/{cohort}/progress/?unit=%00", {}, 400),
    "operator-progress-unit-csv": (
        "operator",
        "get",
        "/operator/cohorts/{cohort}/progress/?format=csv&unit=Bappeda%00",
        {},
        400,
    ),
    "operator-progress-state": ("operator", "get", "/operator/cohorts/{cohort}/progress/?state=%00", {}, 400),
    "operator-progress-sort": ("operator", "get", "/operator/cohorts/{cohort}/progress/?sort=-name%00", {}, 400),
    "operator-import-token": ("operator", "post", "/operator/cohorts/{cohort}/import/", form(token=f"abc{NUL}"), 400),
    "operator-import-field": (
        "operator",
        "post",
        "/operator/cohorts/{cohort}/import/",
        multipart(file=csv_upload(), note=f"x{NUL}"),
        400,
    ),
    "operator-certificates-query": ("operator", "get", "/operator/cohorts/{cohort}/certificates/?x=%00", {}, 400),
    "operator-revoke-form": (
        "operator",
        "post",
        "/operator/certificates/{code}/revoke/",
        form(reason=f"Salah{NUL}"),
        400,
    ),
    "operator-reissue-code": ("operator", "post", "/operator/certificates/{code}%00/reissue/", {}, 400),
    # The admin: its search box and its login form.
    "admin-search": ("admin", "get", "/admin/certificates/certificate/?q=%00", {}, 400),
    "admin-user-search": ("admin", "get", "/admin/auth/user/?q=abc%00", {}, 400),
    "admin-login": (None, "post", "/admin/login/", form(username=f"admin-nul{NUL}", password="x"), 400),
}


def _fill(value, world: dict):
    """The case's path and body with the world's ids in place of ``{name}``."""
    fields = {key: world[key] for key in ("cohort", "lesson", "quiz", "question", "attempt", "code", "nip")}
    if isinstance(value, str):
        return value.format(**fields) if "{" in value else value
    if isinstance(value, dict):
        return {_fill(key, world): _fill(item, world) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, world) for item in value]
    return value


def written(world: dict) -> tuple:
    """What any of the endpoints could have written."""
    return (
        Cohort.objects.count(),
        Enrollment.objects.count(),
        ParticipantProfile.objects.count(),
        LessonCompletion.objects.count(),
        Attempt.objects.count(),
        Answer.objects.count(),
        CertificateArchive.objects.count(),
        Attempt.objects.get(pk=world["attempt"]).status,
        sorted(Certificate.objects.values_list("status", flat=True)),
    )


@pytest.mark.parametrize("case", list(CASES))
def test_a_nul_character_in_any_text_input_is_refused_with_400(world, case):
    who, method, path, arguments, expected = CASES[case]
    client = APIClient(raise_request_exception=False)
    if who == "cookie":
        client.cookies["sessionid"] = f"abcdefgh{NUL}ijklmnop"
    elif who == "admin":
        client.force_login(world["admin"])
    elif who:
        client.force_login(world["users"][who])
    arguments = dict(arguments)
    if "data" in arguments and arguments.get("content_type") == "application/x-www-form-urlencoded":
        arguments["data"] = arguments["data"].replace("%7B", "{").replace("%7D", "}")
    arguments = _fill(arguments, world)
    arguments.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
    before = written(world)

    response = getattr(client, method)(_fill(path, world), **arguments)

    assert response.status_code == expected, response.content[:500]
    assert written(world) == before
    if expected == 400 and path.startswith("/api/") and response.get("Content-Type") == "application/json":
        assert response.json()  # DRF's usual error shape: {"detail": …} or {"field": […]}


def test_the_refusal_names_the_problem_in_the_request_language(world):
    client = APIClient()
    page = client.get("/verify/?code=%00", HTTP_ACCEPT_LANGUAGE="en")
    assert (page.status_code, page.content.decode()) == (400, REFUSED_EN)
    assert page["Content-Type"] == "text/plain; charset=utf-8"
    api = client.get(f"/api/v1/verify/{world['code']}%00/", HTTP_ACCEPT_LANGUAGE="en")
    assert (api.status_code, api.json()) == (400, {"detail": REFUSED_EN, "code": "null_character"})
    indonesian = client.get(f"/api/v1/verify/{world['code']}%00/")
    assert (indonesian.status_code, indonesian.json()) == (400, {"detail": REFUSED_ID, "code": "null_character"})


def test_text_without_nul_still_passes(world):
    """The same inputs without the NUL are served as before (the guard does not refuse ordinary text)."""
    client = APIClient()
    client.force_login(world["users"]["operator"])
    assert client.get(f"/operator/cohorts/{world['cohort']}/?q=abc&unit=Bappeda").status_code == 200
    assert client.get(f"/operator/cohorts/{world['cohort']}/progress/?state=completed&sort=-name").status_code == 200
    response = client.post(
        "/api/v1/cohorts/",
        {"name": "Angkatan", "course": "gcio-test", "starts_on": "2026-05-04", "ends_on": "2026-06-26"},
        format="json",
    )
    assert response.status_code == 201
