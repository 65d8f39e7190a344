"""Admin: attempts read-only with filters, allowances granted through the service, operators let in by group."""

import pytest

from assessments.models import AttemptAllowance
from assessments.selectors import attempts_allowed
from assessments.services import allowance_grant, attempt_start, attempt_submit

from .conftest import right_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(participant, quiz):
    attempt = attempt_start(user=participant, quiz=quiz).attempt
    return attempt_submit(attempt=attempt, answers=right_answers(quiz))


def test_attempts_are_listed_with_filters_and_read_only(client, admin_user, submitted):
    client.force_login(admin_user)
    response = client.get("/admin/assessments/attempt/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert submitted.enrollment.participant.full_name in html
    for query in ("?status__exact=submitted", f"?quiz__id__exact={submitted.quiz_id}", "?passed__exact=1"):
        assert client.get(f"/admin/assessments/attempt/{query}").status_code == 200
    detail = client.get(f"/admin/assessments/attempt/{submitted.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert client.get("/admin/assessments/attempt/add/").status_code == 403
    assert client.post(f"/admin/assessments/attempt/{submitted.pk}/delete/", {"post": "yes"}).status_code == 403


def grant(client, enrollment, quiz, extra, reason=""):
    return client.post(
        "/admin/assessments/attemptallowance/add/",
        {"enrollment": enrollment.pk, "quiz": quiz.pk, "extra": extra, "reason": reason},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_an_allowance_is_granted_in_the_admin(client, admin_user, enrollment, quiz):
    client.force_login(admin_user)
    response = grant(client, enrollment, quiz, 2, "Gangguan jaringan")
    assert response.status_code == 302, response.content.decode()[:2000]
    allowance = AttemptAllowance.objects.get()
    assert (allowance.enrollment, allowance.quiz, allowance.extra, allowance.reason, allowance.granted_by) == (
        enrollment,
        quiz,
        2,
        "Gangguan jaringan",
        admin_user,
    )
    assert attempts_allowed(enrollment_id=enrollment.pk, quiz=quiz) == quiz.max_attempts + 2


def test_a_second_grant_in_the_admin_adds_through_the_service(client, admin_user, operator, enrollment, quiz):
    client.force_login(admin_user)
    assert grant(client, enrollment, quiz, 2, "Gangguan jaringan").status_code == 302
    client.force_login(operator)
    # Written directly, this would be refused as a duplicate of the first; allowance_grant adds to it.
    response = grant(client, enrollment, quiz, 1)
    assert response.status_code == 302, response.content.decode()[:2000]
    allowance = AttemptAllowance.objects.get()
    assert (allowance.extra, allowance.reason, allowance.granted_by) == (3, "Gangguan jaringan", operator)
    assert attempts_allowed(enrollment_id=enrollment.pk, quiz=quiz) == quiz.max_attempts + 3


def test_a_grant_of_no_attempts_is_refused_in_the_admin_and_writes_nothing(client, admin_user, enrollment, quiz):
    client.force_login(admin_user)
    response = grant(client, enrollment, quiz, 0)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"extra": ["Ensure this value is greater than or equal to 1."]}
    assert not AttemptAllowance.objects.exists()


def test_an_existing_allowance_cannot_be_edited_in_the_admin(client, admin_user, enrollment, quiz):
    allowance = allowance_grant(enrollment=enrollment, quiz=quiz, extra=2, reason="Sakit")
    client.force_login(admin_user)
    url = f"/admin/assessments/attemptallowance/{allowance.pk}/change/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(url, {"enrollment": enrollment.pk, "quiz": quiz.pk, "extra": 9, "reason": "Lain"})
    assert response.status_code == 403
    allowance.refresh_from_db()
    assert (allowance.extra, allowance.reason, allowance.granted_by) == (2, "Sakit", None)


def test_operators_may_view_attempts_and_manage_allowances(client, operator, submitted):
    client.force_login(operator)
    assert client.get("/admin/assessments/attempt/").status_code == 200
    assert client.get("/admin/assessments/attemptallowance/add/").status_code == 200
    assert client.get("/admin/assessments/quiz/").status_code == 200
