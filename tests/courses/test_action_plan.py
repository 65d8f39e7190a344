"""The action plan (rencana aksi): writing it, the completion rule, the API, the pages and the exports."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from courses.errors import ActionPlanClosed, ActionPlanInvalid, ActionPlanNotOffered
from courses.models import ActionPlan, Enrollment
from courses.services import action_plan_submit
from tests.courses.test_progress import STAGES, finish_module, percent
from tests.factories import (
    ACTION_PLAN,
    CohortFactory,
    EnrollmentFactory,
    ParticipantProfileFactory,
    action_plan_values,
    course_with_modules,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    return course_with_modules(
        stages=STAGES[:2],
        action_plan_required=True,
        action_plan_title="Rencana Aksi",
        action_plan_instructions="Tuliskan **satu perubahan** yang akan Anda pimpin.\n\n## Empat Isian\n",
    )


@pytest.fixture
def certificate_jobs(monkeypatch):
    from certificates import tasks

    queued = []
    monkeypatch.setattr(tasks.certificate_issue_task, "delay", lambda enrollment_id: queued.append(enrollment_id))
    return queued


def finish_all(enrollment):
    for module in enrollment.cohort.course.modules.order_by("order"):
        finish_module(enrollment, module)


# --- the completion rule --------------------------------------------------------------------------


def test_modules_without_the_plan_do_not_complete_the_course_then_the_plan_does_once(
    enrollment, signals, certificate_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        finish_all(enrollment)
    enrollment.refresh_from_db()
    assert enrollment.completed_at is None
    assert percent(enrollment) == 99  # every module done, the plan still missing
    assert signals == [] and certificate_jobs == []

    with django_capture_on_commit_callbacks(execute=True):
        plan = action_plan_submit(enrollment=enrollment, **action_plan_values())
    enrollment.refresh_from_db()
    assert enrollment.completed_at == plan.submitted_at
    assert percent(enrollment) == 100
    assert signals == [enrollment.pk]
    assert certificate_jobs == [enrollment.pk]


def test_a_plan_submitted_first_completes_the_course_with_the_last_module(
    enrollment, course, signals, django_capture_on_commit_callbacks
):
    first, last = course.modules.order_by("order")
    with django_capture_on_commit_callbacks(execute=True):
        finish_module(enrollment, first)
        action_plan_submit(enrollment=enrollment, **action_plan_values())
    assert Enrollment.objects.get(pk=enrollment.pk).completed_at is None and signals == []
    with django_capture_on_commit_callbacks(execute=True):
        finish_module(enrollment, last)
    assert Enrollment.objects.get(pk=enrollment.pk).completed_at is not None
    assert signals == [enrollment.pk]


def test_a_course_without_a_required_plan_completes_with_its_modules(signals, django_capture_on_commit_callbacks):
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course_with_modules(stages=STAGES[:2])))
    assert enrollment.cohort.course.action_plan_required is False  # the factories' default
    with django_capture_on_commit_callbacks(execute=True):
        finish_all(enrollment)
    assert Enrollment.objects.get(pk=enrollment.pk).completed_at is not None
    assert signals == [enrollment.pk]


# --- the service ------------------------------------------------------------------------------------


def test_revising_the_plan_keeps_its_first_submission_time(enrollment):
    first = action_plan_submit(enrollment=enrollment, **action_plan_values())
    again = action_plan_submit(enrollment=enrollment, **action_plan_values(change="Perubahan lain yang lebih tajam."))
    assert ActionPlan.objects.count() == 1
    stored = ActionPlan.objects.get()
    assert stored.change == "Perubahan lain yang lebih tajam."
    assert stored.submitted_at == first.submitted_at == again.submitted_at
    assert stored.updated_at >= stored.submitted_at


def test_the_plan_is_final_once_the_course_is_completed(enrollment):
    finish_all(enrollment)
    action_plan_submit(enrollment=enrollment, **action_plan_values())
    with pytest.raises(ActionPlanClosed):
        action_plan_submit(enrollment=enrollment, **action_plan_values(change="Sesudah selesai diubah lagi."))
    assert ActionPlan.objects.get().change == ACTION_PLAN["change"]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"change": "Terlalu"}, "change"),
        ({"lead": "   pendek   "}, "lead"),
        ({"indicator": "x" * 2001}, "indicator"),
        ({"due_on": "besok"}, "due_on"),
        ({"change": "Berisi\x00karakter nol."}, "change"),
    ],
)
def test_invalid_plans_are_refused_and_nothing_is_written(enrollment, changes, field):
    values = {**action_plan_values(), **changes}
    with pytest.raises(ActionPlanInvalid) as caught:
        action_plan_submit(enrollment=enrollment, **values)
    assert list(caught.value.errors) == [field]
    assert not ActionPlan.objects.exists()


def test_a_course_without_an_action_plan_refuses_one():
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course_with_modules(stages=STAGES[:2])))
    with pytest.raises(ActionPlanNotOffered):
        action_plan_submit(enrollment=enrollment, **action_plan_values())


# --- the API ----------------------------------------------------------------------------------------


def put_plan(api_client, enrollment, body, user=None):
    api_client.force_authenticate(user or enrollment.participant.user)
    return api_client.put(f"/api/v1/enrollments/{enrollment.pk}/action-plan/", body, format="json")


def test_put_stores_the_plan_and_my_enrollments_reports_it(api_client, enrollment):
    api_client.force_authenticate(enrollment.participant.user)
    listed = api_client.get("/api/v1/me/enrollments/").json()
    assert listed[0]["action_plan"] == {"required": True, "submitted_at": None}

    response = put_plan(api_client, enrollment, ACTION_PLAN)
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ACTION_PLAN} == ACTION_PLAN
    assert body["submitted_at"] and body["updated_at"]
    listed = api_client.get("/api/v1/me/enrollments/").json()
    assert listed[0]["action_plan"]["required"] is True
    assert listed[0]["action_plan"]["submitted_at"] == body["submitted_at"]
    assert api_client.get(f"/api/v1/enrollments/{enrollment.pk}/action-plan/").json()["change"] == ACTION_PLAN["change"]


def test_put_with_bad_fields_is_a_400_per_field(api_client, enrollment):
    response = put_plan(api_client, enrollment, {**ACTION_PLAN, "change": "pendek", "due_on": "30/06/2027"})
    assert response.status_code == 400
    assert set(response.json()) == {"change", "due_on"}
    response = put_plan(api_client, enrollment, {"change": ACTION_PLAN["change"]})
    assert response.status_code == 400
    assert {"lead", "due_on", "indicator"} <= set(response.json())
    assert not ActionPlan.objects.exists()


def test_put_after_completion_is_a_409(api_client, enrollment):
    finish_all(enrollment)
    assert put_plan(api_client, enrollment, ACTION_PLAN).status_code == 200
    response = put_plan(api_client, enrollment, {**ACTION_PLAN, "lead": "Orang lain sama sekali."})
    assert response.status_code == 409
    assert response.json()["code"] == "course_completed"


def test_only_the_enrolments_participant_may_put(api_client, enrollment, operator):
    other = ParticipantProfileFactory()
    assert put_plan(api_client, enrollment, ACTION_PLAN, user=other.user).status_code == 404
    assert put_plan(api_client, enrollment, ACTION_PLAN, user=operator).status_code == 403
    api_client.force_authenticate(None)
    assert api_client.put(
        f"/api/v1/enrollments/{enrollment.pk}/action-plan/", ACTION_PLAN, format="json"
    ).status_code in (
        401,
        403,
    )
    assert not ActionPlan.objects.exists()


@pytest.fixture
def cohort_with_plans(enrollment):
    cohort = enrollment.cohort
    action_plan_submit(enrollment=enrollment, **action_plan_values(change='=HYPERLINK("x") bukan rumus.'))
    EnrollmentFactory(cohort=cohort)  # no plan yet: not listed
    return cohort


def test_operators_list_a_cohorts_plans_as_json_csv_and_xlsx(api_client, operator, cohort_with_plans, enrollment):
    api_client.force_authenticate(operator)
    url = f"/api/v1/cohorts/{cohort_with_plans.pk}/action-plans/"
    rows = api_client.get(url).json()
    participant = enrollment.participant
    assert len(rows) == 1
    assert list(rows[0]) == ["nip", "full_name", "unit", "change", "lead", "due_on", "indicator", "submitted_at"]
    assert rows[0]["nip"] == participant.nip and rows[0]["due_on"] == "2027-06-30"

    response = api_client.get(url, {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert lines[0] == list(rows[0])
    assert lines[1][0] == participant.nip and lines[1][3].startswith("'=HYPERLINK")

    response = api_client.get(url, {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:2] == ("nip", "full_name")
    assert values[1][0] == participant.nip and values[1][3].startswith("=HYPERLINK")
    assert sheet.cell(row=2, column=4).data_type == "s"


def test_participants_may_not_list_a_cohorts_plans(api_client, cohort_with_plans, enrollment):
    api_client.force_authenticate(enrollment.participant.user)
    assert api_client.get(f"/api/v1/cohorts/{cohort_with_plans.pk}/action-plans/").status_code == 403


# --- the pages --------------------------------------------------------------------------------------


def test_the_participant_page_renders_the_instructions_and_saves_the_form(client, enrollment):
    client.force_login(enrollment.participant.user)
    url = reverse("courses:action-plan", args=[enrollment.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="id")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<strong>satu perubahan</strong>" in html and "<h2" in html  # Markdown, as lessons are
    assert 'name="change"' in html and 'type="date"' in html

    response = client.post(url, {**ACTION_PLAN, "change": "pendek"})
    assert response.status_code == 400 and not ActionPlan.objects.exists()
    response = client.post(url, ACTION_PLAN)
    assert response.status_code == 302
    assert ActionPlan.objects.get(enrollment=enrollment).indicator == ACTION_PLAN["indicator"]
    assert ACTION_PLAN["lead"] in client.get(url).content.decode()


def test_the_participant_page_is_read_only_once_completed(client, enrollment):
    finish_all(enrollment)
    action_plan_submit(enrollment=enrollment, **action_plan_values())
    client.force_login(enrollment.participant.user)
    url = reverse("courses:action-plan", args=[enrollment.pk])
    html = client.get(url).content.decode()
    assert 'name="change"' not in html and ACTION_PLAN["change"] in html
    response = client.post(url, {**ACTION_PLAN, "change": "Perubahan sesudah selesai."})
    assert response.status_code == 409
    assert ActionPlan.objects.get().change == ACTION_PLAN["change"]


def test_someone_elses_plan_page_is_not_found(client, enrollment):
    client.force_login(ParticipantProfileFactory().user)
    assert client.get(reverse("courses:action-plan", args=[enrollment.pk])).status_code == 404


def test_the_operator_page_lists_the_plans_with_export_buttons(client, operator, cohort_with_plans, enrollment):
    client.force_login(operator)
    url = reverse("courses:operator-action-plans", args=[cohort_with_plans.pk])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert enrollment.participant.full_name in html
    assert "format=csv" in html and "format=xlsx" in html
    assert "1 dari 2" in html  # submitted of participants
    export = client.get(url, {"format": "csv"})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    participant_client = client.__class__()
    participant_client.force_login(enrollment.participant.user)
    assert participant_client.get(url).status_code in (302, 403)


def test_operators_may_read_plans_in_the_admin_but_not_change_them(client, operator, cohort_with_plans):
    client.force_login(operator)
    plan = ActionPlan.objects.get()
    listing = client.get("/admin/courses/actionplan/")
    assert listing.status_code == 200 and plan.enrollment.participant.full_name in listing.content.decode()
    page = client.get(f"/admin/courses/actionplan/{plan.pk}/change/")
    assert page.status_code == 200 and 'name="change"' not in page.content.decode()
    client.post(f"/admin/courses/actionplan/{plan.pk}/change/", {"change": "Diubah lewat admin, tidak boleh."})
    assert ActionPlan.objects.get().change == plan.change


def test_the_dashboard_shows_the_plan_as_a_step_and_leads_to_it_once_the_modules_are_done(client, enrollment):
    client.force_login(enrollment.participant.user)
    url = reverse("courses:action-plan", args=[enrollment.pk])
    html = client.get(reverse("courses:dashboard"), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Rencana aksi" in html and "Belum dikirim" in html and url not in html
    finish_all(enrollment)
    html = client.get(reverse("courses:dashboard"), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert url in html  # all modules done: the next step is the plan
    action_plan_submit(enrollment=enrollment, **action_plan_values())
    html = client.get(reverse("courses:dashboard"), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Sudah dikirim" in html and url not in html


# --- the guided path ------------------------------------------------------------------------------


def test_with_every_module_done_the_next_step_is_the_action_plan_then_the_completion_page(
    client, enrollment, certificate_jobs, django_capture_on_commit_callbacks
):
    from courses.selectors import StepKind, enrollment_next_step

    finish_all(enrollment)
    step = enrollment_next_step(enrollment=enrollment)
    plan_url = reverse("courses:action-plan", args=[enrollment.pk])
    assert (step.kind, step.url) == (StepKind.ACTION_PLAN, plan_url)
    client.force_login(enrollment.participant.user)
    dashboard = client.get(reverse("courses:dashboard"), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert f'data-primary-action href="{plan_url}"' in dashboard and "Tulis rencana aksi" in dashboard

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(plan_url, ACTION_PLAN)
    completion = reverse("courses:completion", kwargs={"slug": enrollment.cohort.course.slug})
    assert (response.status_code, response["Location"]) == (302, completion)
    enrollment.refresh_from_db()
    assert enrollment_next_step(enrollment=enrollment).kind == StepKind.COMPLETED


def test_before_the_last_module_the_plan_is_not_the_next_step(enrollment):
    from courses.selectors import StepKind, enrollment_next_step

    first = enrollment.cohort.course.modules.order_by("order").first()
    finish_module(enrollment, first)
    assert enrollment_next_step(enrollment=enrollment).kind != StepKind.ACTION_PLAN
