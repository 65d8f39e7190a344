"""Every page that shows a date or a time uses the one format of its language, times with their zone."""

import datetime
import re
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache

from assessments.models import Attempt
from certificates.codes import code_display
from certificates.models import Certificate
from certificates.services import certificate_revoke
from tests.assessments.conftest import build_quiz
from tests.certificates.conftest import complete
from tests.factories import CohortFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
WITA = zoneinfo.ZoneInfo("Asia/Makassar")
# 06.30 UTC is 14.30 WITA on 2 December 2026.
NOW = datetime.datetime(2026, 12, 2, 6, 30, tzinfo=datetime.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_the_quiz_deadline_and_the_attempts_say_the_zone(client, frozen):
    quiz = build_quiz(questions=2, time_limit_minutes=10)
    enrollment = EnrollmentFactory(cohort__course=quiz.module.course)
    client.force_login(enrollment.participant.user)
    client.post(f"/quizzes/{quiz.pk}/")
    attempt = Attempt.objects.get()
    take = text_of(client.get(f"/attempts/{attempt.pk}/"))
    assert "(kirim sebelum 14.40 WITA)" in take
    assert "(submit before 14:40 WITA)" in text_of(client.get(f"/attempts/{attempt.pk}/", HTTP_ACCEPT_LANGUAGE="en"))
    overview = text_of(client.get(f"/quizzes/{quiz.pk}/"))
    assert "2 Desember 2026, 14.30 WITA" in overview
    assert "2 December 2026, 14:30 WITA" in text_of(client.get(f"/quizzes/{quiz.pk}/", HTTP_ACCEPT_LANGUAGE="en"))


@pytest.fixture
def holder(frozen, django_capture_on_commit_callbacks):
    from tests.factories import CourseFactory, LessonFactory, ModuleFactory, QuizFactory

    course = CourseFactory(certificate_prefix="GCIO-DATES")
    module = ModuleFactory(course=course, order=1)
    LessonFactory(module=module, order=1)
    QuizFactory(module=module)
    enrollment = EnrollmentFactory(
        cohort=CohortFactory(course=course, starts_on=datetime.date(2026, 11, 2), ends_on=datetime.date(2026, 12, 30))
    )
    with django_capture_on_commit_callbacks(execute=True):
        complete(enrollment)
    return enrollment


def test_completion_and_certificate_dates(client, holder):
    client.force_login(holder.participant.user)
    assert "Selesai pada 2 Desember 2026" in text_of(client.get("/dashboard/"))
    assert "Completed on 2 December 2026" in text_of(client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en"))
    code = code_display(Certificate.objects.get(enrollment=holder).code)
    assert "Tanggal terbit 2 Desember 2026" in text_of(client.get(f"/certificates/{code}/"))
    cache.clear()
    assert "Issued on 2 December 2026" in text_of(client.get(f"/verify/{code}/", HTTP_ACCEPT_LANGUAGE="en"))


def test_revocation_date_on_the_verification_page(client, holder):
    certificate = Certificate.objects.get(enrollment=holder)
    certificate_revoke(certificate=certificate, reason="Salah penerima", by=None)
    code = code_display(certificate.code)
    assert "dicabut pada 2 Desember 2026" in text_of(client.get(f"/verify/{code}/"))


def test_operator_pages_show_dates_the_same_way(client, holder):
    operator = UserFactory(username="operator-dates")
    operator.groups.add(Group.objects.get(name="operators"))
    client.force_login(operator)
    cohorts = text_of(client.get("/operator/cohorts/"))
    assert "2 November 2026 – 30 Desember 2026" in cohorts
    cohort = text_of(client.get(f"/operator/cohorts/{holder.cohort_id}/"))
    assert "2 November 2026 – 30 Desember 2026" in cohort
    progress = text_of(client.get(f"/operator/cohorts/{holder.cohort_id}/progress/"))
    assert "2 Desember 2026" in progress


TEMPLATES = sorted(
    path
    for folder in ("courses", "assessments", "certificates", "config")
    for pattern in ("templates/**/*.html", "templates/**/*.txt")
    for path in (ROOT / folder).glob(pattern)
)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_formats_a_date_its_own_way(path):
    """Django's |date and |time filters take any format: the pages use local_date, local_datetime, local_time."""
    source = path.read_text(encoding="utf-8")
    assert not re.findall(r"\|\s*(?:date|time)\b", source)
