"""Operators' participant pages: the list with flags and bulk actions, a participant's record and
actions (grant, resend, correct, remove), the audit log."""

import pytest
from django.core import mail
from django.db import connection

from assessments.models import AttemptAllowance
from courses.models import AuditEntry, Enrollment
from tests.courses import test_operator_work as base
from tests.factories import CertificateFactory

pytestmark = pytest.mark.django_db

# The same cohort and people as the API tests.
course, cohort, people = base.course, base.cohort, base.people


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


def test_participants_page_needs_an_operator(client, cohort, people):
    url = f"/operator/cohorts/{cohort.pk}/participants/"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(people["citra"].participant.user)
    assert client.get(url).status_code == 403
    assert client.post(f"/operator/cohorts/{cohort.pk}/reminders/").status_code == 403
    assert client.post(f"/operator/participants/{people['ani'].pk}/remove/", {"reason": "x"}).status_code == 403
    grant = {"quiz": people["quiz1"].pk, "extra_attempts": 1, "reason": "x"}
    assert client.post(f"/operator/enrollments/{people['citra'].pk}/allowances/", grant).status_code == 403
    assert not AttemptAllowance.objects.exists()
    assert Enrollment.objects.filter(removed_at__isnull=True).count() == 4


def test_participants_page_shows_flags_counts_and_filters(
    operator_client, cohort, people, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        response = operator_client.get(f"/operator/cohorts/{cohort.pk}/participants/")
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("Ani", "Budi", "Citra", "Dewi"):
        assert name in html
    assert 'data-flag="out_of_attempts"' in html
    filtered = operator_client.get(f"/operator/cohorts/{cohort.pk}/participants/?flag=out_of_attempts").content.decode()
    assert "Citra" in filtered and "Ani" not in filtered


def _fixtures_committed() -> None:
    """Run what the fixtures queued for after their commit, as a commit would: the content cache
    stores nothing that a transaction still pending has changed (the test's own never commits)."""
    pending, connection.run_on_commit = connection.run_on_commit, []
    for _, callback, _ in pending:
        callback()


def test_the_participants_page_costs_ten_queries_for_4_and_40_participants(
    operator_client, cohort, people, django_assert_max_num_queries
):
    """Session, user, operator check, cohort, the four progress queries, today's sending and the menu's
    profile: the course outline (modules, quizzes) comes from the content cache once it is warm."""
    url = f"/operator/cohorts/{cohort.pk}/participants/"
    _fixtures_committed()
    operator_client.get(url)  # warms the content cache
    with django_assert_max_num_queries(10) as small:
        assert operator_client.get(url).status_code == 200
    for n in range(36):
        enrollment = base._enrol(cohort, accepted=n % 2 == 0)
        if n % 3 == 0:
            base._closed_attempt(enrollment, people["quiz1"], 1)
    with django_assert_max_num_queries(10) as large:
        html = operator_client.get(url).content.decode()
    assert len(large.captured_queries) == len(small.captured_queries)
    assert html.count('class="col-name"') >= 40


def test_a_quiz_changed_after_the_outline_was_cached_shows_at_once(operator_client, cohort, people):
    """Citra used her attempts at module 1's quiz; raising its maximum (the admin saves the quiz)
    forgets the cached outline, so she is no longer out of attempts."""
    url = f"/operator/cohorts/{cohort.pk}/participants/?flag=out_of_attempts"
    _fixtures_committed()
    assert "Citra" in operator_client.get(url).content.decode()
    quiz = people["quiz1"]
    quiz.max_attempts += 5
    quiz.save()
    assert "Citra" not in operator_client.get(url).content.decode()


def test_the_bulk_buttons_send_once_a_day(operator_client, cohort, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/operator/cohorts/{cohort.pk}/invitations/resend/")
        operator_client.post(f"/operator/cohorts/{cohort.pk}/reminders/")
        operator_client.post(f"/operator/cohorts/{cohort.pk}/reminders/")
    assert len(mail.outbox) == 2 + 3
    page = operator_client.get(f"/operator/cohorts/{cohort.pk}/participants/").content.decode()
    assert 'data-pending="0"' in page


def test_the_schedule_switch(operator_client, cohort):
    operator_client.post(f"/operator/cohorts/{cohort.pk}/reminders/schedule/", {"enabled": "0"})
    cohort.refresh_from_db()
    assert cohort.reminders_enabled is False
    assert AuditEntry.objects.filter(action="schedule", cohort=cohort).count() == 1


def test_participant_page_shows_the_record_and_grants(operator_client, people):
    citra = people["citra"]
    CertificateFactory(enrollment=citra, number="TEST-PREFIX/2026/00042")
    url = f"/operator/participants/{citra.pk}/"
    html = operator_client.get(url).content.decode()
    assert citra.participant.nip in html
    assert 'data-attempts-left="0"' in html
    assert "20%" in html  # the attempts' scores
    assert "TEST-PREFIX/2026/00042" in html
    response = operator_client.post(
        f"/operator/enrollments/{citra.pk}/allowances/",
        {"quiz": people["quiz1"].pk, "extra_attempts": "1", "reason": "Listrik padam"},
    )
    assert response.status_code == 302 and response.url == url
    assert AttemptAllowance.objects.get(enrollment=citra).extra == 1
    html = operator_client.get(url).content.decode()
    assert f'data-quiz="{people["quiz1"].pk}" data-attempts-left="1"' in html
    assert "Listrik padam" in html  # the allowance and the audit log


def test_a_bad_grant_on_the_page_writes_nothing(operator_client, people):
    response = operator_client.post(
        f"/operator/enrollments/{people['citra'].pk}/allowances/",
        {"quiz": people["quiz1"].pk, "extra_attempts": "9", "reason": "x"},
    )
    assert response.status_code == 302
    assert not AttemptAllowance.objects.exists()


def test_correct_and_remove_from_the_page(operator_client, cohort, people):
    budi = people["budi"]
    url = f"/operator/participants/{budi.pk}/"
    response = operator_client.post(url, {"full_name": "Budi Santoso", "position": "Sekretaris", "unit": "Bappeda"})
    assert response.status_code == 302
    budi.participant.refresh_from_db()
    assert (budi.participant.full_name, budi.participant.position, budi.participant.unit) == (
        "Budi Santoso",
        "Sekretaris",
        "Bappeda",
    )
    assert operator_client.post(url, {"full_name": "", "position": "", "unit": ""}).status_code == 400
    operator_client.post(f"/operator/participants/{budi.pk}/remove/", {"reason": "Mutasi"})
    budi.refresh_from_db()
    assert budi.removed_at is not None
    listing = operator_client.get(f"/operator/cohorts/{cohort.pk}/participants/").content.decode()
    assert f'data-enrollment="{budi.pk}"' not in listing
    audit = operator_client.get(f"/operator/cohorts/{cohort.pk}/audit/").content.decode()
    assert "Mutasi" in audit and "Budi Santoso" in audit
