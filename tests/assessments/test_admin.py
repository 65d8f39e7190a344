"""Admin: attempts read-only with filters, allowances editable, operators allowed in by their group."""

import pytest

from assessments.models import AttemptAllowance
from assessments.services import attempt_start, attempt_submit

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


def test_an_allowance_is_granted_in_the_admin(client, admin_user, enrollment, quiz):
    client.force_login(admin_user)
    response = client.post(
        "/admin/assessments/attemptallowance/add/",
        {"enrollment": enrollment.pk, "quiz": quiz.pk, "extra": 2, "reason": "Gangguan jaringan"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    allowance = AttemptAllowance.objects.get()
    assert (allowance.enrollment, allowance.quiz, allowance.extra, allowance.granted_by) == (
        enrollment,
        quiz,
        2,
        admin_user,
    )


def test_operators_may_view_attempts_and_manage_allowances(client, operator, submitted):
    client.force_login(operator)
    assert client.get("/admin/assessments/attempt/").status_code == 200
    assert client.get("/admin/assessments/attemptallowance/add/").status_code == 200
    assert client.get("/admin/assessments/quiz/").status_code == 200
