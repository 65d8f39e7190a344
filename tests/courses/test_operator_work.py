"""Operators' cohort work: the participants list and its flags, invitations resent, reminders,
extra attempts, corrections, removals and the audit log (API.md "Operators' cohort work")."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from assessments.models import AttemptAllowance, AttemptStatus
from courses.models import AuditEntry, Enrollment, LessonCompletion, MessageKind, ParticipantMessage
from courses.selectors import cohort_participants_overview
from courses.services import (
    audit_record,
    enrollment_remove,
    participant_correct,
    reminders_send,
    scheduled_reminders_send,
)
from courses.signals import participant_corrected
from tests.factories import (
    AttemptFactory,
    CohortFactory,
    EnrollmentFactory,
    LessonFactory,
    ModuleFactory,
    ParticipantProfileFactory,
    QuizFactory,
    UserFactory,
    course_with_modules,
)

pytestmark = pytest.mark.django_db


def _closed_attempt(enrollment, quiz, number, *, passed=False):
    now = timezone.now()
    return AttemptFactory(
        enrollment=enrollment,
        quiz=quiz,
        number=number,
        status=AttemptStatus.SUBMITTED,
        submitted_at=now,
        graded_at=now,
        score_percent=90 if passed else 20,
        passed=passed,
    )


@pytest.fixture
def course():
    return course_with_modules(lessons=2, quiz={"max_attempts": 3})


@pytest.fixture
def cohort(course):
    """Half of its period gone: 10 of 20 days."""
    today = timezone.localdate()
    return CohortFactory(
        course=course, starts_on=today - datetime.timedelta(days=10), ends_on=today + datetime.timedelta(days=9)
    )


def _enrol(cohort, *, accepted=True, name=None, **kwargs):
    profile = ParticipantProfileFactory(**({"full_name": name} if name else {}))
    if not accepted:
        profile.user.set_unusable_password()
        profile.user.save()
    return EnrollmentFactory(cohort=cohort, participant=profile, **kwargs)


@pytest.fixture
def people(cohort, course):
    """Ani: not started, never invited; Budi: invited, not accepted, read one lesson; Citra: out of
    attempts at module 1 after reading all its lessons; Dewi: completed."""
    module1 = course.modules.order_by("order").first()
    quiz1 = module1.quiz
    ani = _enrol(cohort, accepted=False, name="Ani")
    budi = _enrol(cohort, accepted=False, name="Budi")
    budi.participant.invited_at = timezone.now()
    budi.participant.save()
    LessonCompletion.objects.create(enrollment=budi, lesson=module1.lessons.first())
    citra = _enrol(cohort, name="Citra")
    for lesson in module1.lessons.all():
        LessonCompletion.objects.create(enrollment=citra, lesson=lesson)
    for number in (1, 2, 3):
        _closed_attempt(citra, quiz1, number)
    dewi = _enrol(cohort, name="Dewi", completed_at=timezone.now())
    return {"ani": ani, "budi": budi, "citra": citra, "dewi": dewi, "quiz1": quiz1}


# --- Permissions ----------------------------------------------------------------------------------


def _endpoints(cohort, people):
    return [
        ("get", f"/api/v1/cohorts/{cohort.pk}/enrollments/", None),
        ("post", f"/api/v1/cohorts/{cohort.pk}/invitations/resend/", {}),
        ("post", f"/api/v1/cohorts/{cohort.pk}/reminders/", {}),
        (
            "post",
            f"/api/v1/enrollments/{people['citra'].pk}/allowances/",
            {"quiz": people["quiz1"].pk, "extra_attempts": 1, "reason": "Gangguan jaringan"},
        ),
    ]


def test_anonymous_users_are_refused_everywhere(api_client, cohort, people):
    for method, url, body in _endpoints(cohort, people):
        response = getattr(api_client, method)(url, body, format="json")
        assert response.status_code in (401, 403), url
    assert not ParticipantMessage.objects.exists()
    assert not AttemptAllowance.objects.exists()


def test_participants_are_refused_everywhere(api_client, cohort, people):
    api_client.force_authenticate(people["citra"].participant.user)
    for method, url, body in _endpoints(cohort, people):
        response = getattr(api_client, method)(url, body, format="json")
        assert response.status_code == 403, url
    assert not ParticipantMessage.objects.exists()
    assert not AttemptAllowance.objects.exists()


def test_unknown_cohort_or_enrollment_is_404(api_client, operator, people):
    api_client.force_authenticate(operator)
    assert api_client.get("/api/v1/cohorts/999999/enrollments/").status_code == 404
    assert api_client.post("/api/v1/cohorts/999999/reminders/").status_code == 404
    response = api_client.post(
        "/api/v1/enrollments/999999/allowances/",
        {"quiz": people["quiz1"].pk, "extra_attempts": 1, "reason": "x"},
        format="json",
    )
    assert response.status_code == 404


# --- The list and its flags -----------------------------------------------------------------------


def test_enrollments_list_has_the_contract_shape_and_the_flags(api_client, operator, cohort, people):
    api_client.force_authenticate(operator)
    response = api_client.get(f"/api/v1/cohorts/{cohort.pk}/enrollments/")
    assert response.status_code == 200
    rows = {row["full_name"]: row for row in response.json()}
    assert list(rows) == ["Ani", "Budi", "Citra", "Dewi"]
    ani = rows["Ani"]
    assert set(ani) >= {
        "id",
        "nip",
        "full_name",
        "email",
        "unit",
        "position",
        "invitation",
        "progress_percent",
        "completed_at",
    }
    assert ani["id"] == people["ani"].pk
    assert ani["email"] == people["ani"].participant.user.email
    assert ani["position"] == people["ani"].participant.position
    assert ani["invitation"] == {"status": "pending", "sent_at": None, "accepted_at": None}
    assert rows["Budi"]["invitation"]["status"] == "sent"
    assert rows["Budi"]["invitation"]["sent_at"] is not None
    assert rows["Citra"]["invitation"]["status"] == "accepted"
    assert ani["flags"] == ["not_started", "behind_pace"]
    assert rows["Budi"]["flags"] == ["behind_pace"]  # 1 of 6 items read, half the period gone
    assert "out_of_attempts" in rows["Citra"]["flags"]
    assert rows["Dewi"]["flags"] == ["completed"]
    assert rows["Dewi"]["progress_percent"] == 100


def test_the_flag_filter_and_the_counts(api_client, operator, cohort, people):
    api_client.force_authenticate(operator)
    response = api_client.get(f"/api/v1/cohorts/{cohort.pk}/enrollments/?flag=out_of_attempts")
    assert [row["full_name"] for row in response.json()] == ["Citra"]
    overview = cohort_participants_overview(cohort=cohort)
    assert overview.counts == {"not_started": 1, "behind_pace": 3, "out_of_attempts": 1, "completed": 1}
    assert overview.not_accepted == 2


def test_an_allowance_lifts_the_out_of_attempts_flag(cohort, people):
    AttemptAllowance.objects.create(enrollment=people["citra"], quiz=people["quiz1"], extra=1)
    overview = cohort_participants_overview(cohort=cohort, flag="out_of_attempts")
    assert overview.rows == []


def test_progress_rows_carry_attempts_left(api_client, operator, cohort, people):
    api_client.force_authenticate(operator)
    rows = {r["full_name"]: r for r in api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/").json()}
    assert [m["attempts_left"] for m in rows["Citra"]["modules"]] == [0, 3]
    assert [m["attempts_left"] for m in rows["Ani"]["modules"]] == [3, 3]


def test_progress_rows_attempts_left_is_null_without_a_quiz(api_client, operator):
    module = ModuleFactory()
    LessonFactory(module=module)
    cohort = CohortFactory(course=module.course)
    EnrollmentFactory(cohort=cohort)
    api_client.force_authenticate(operator)
    (row,) = api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/").json()
    assert row["modules"][0]["attempts_left"] is None


def test_the_list_costs_the_same_for_4_and_40_participants(
    api_client, operator, cohort, people, django_assert_max_num_queries
):
    api_client.force_authenticate(operator)
    url = f"/api/v1/cohorts/{cohort.pk}/enrollments/"
    with django_assert_max_num_queries(10) as small:
        assert len(api_client.get(url).json()) == 4
    for n in range(36):
        enrollment = _enrol(cohort, accepted=n % 2 == 0)
        if n % 3 == 0:
            _closed_attempt(enrollment, people["quiz1"], 1)
    with django_assert_max_num_queries(10) as large:
        assert len(api_client.get(url).json()) == 40
    assert len(large.captured_queries) == len(small.captured_queries)


# --- Invitations resent ---------------------------------------------------------------------------


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the callbacks queued for after the commit (the sending tasks) as the request ends."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def test_resend_goes_to_those_not_accepted_once_a_day_whoever_asks(api_client, operator, cohort, people, on_commit):
    other_operator = UserFactory(username="operator-2", is_superuser=True)
    api_client.force_authenticate(operator)
    url = f"/api/v1/cohorts/{cohort.pk}/invitations/resend/"
    response = on_commit(lambda: api_client.post(url, {}, format="json"))
    assert response.status_code == 202
    assert response.json() == {"queued": 2}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [people["ani"].participant.user.email, people["budi"].participant.user.email]
    )
    api_client.force_authenticate(other_operator)
    assert on_commit(lambda: api_client.post(url, {}, format="json")).json() == {"queued": 0}
    assert len(mail.outbox) == 2
    people["ani"].participant.refresh_from_db()
    assert people["ani"].participant.invited_at is not None
    assert AuditEntry.objects.filter(action="resend", actor=operator).count() == 2
    # The list now says "sent" for Ani.
    rows = {r["full_name"]: r for r in api_client.get(f"/api/v1/cohorts/{cohort.pk}/enrollments/").json()}
    assert rows["Ani"]["invitation"]["status"] == "sent"


def test_resend_to_chosen_people_skips_accepted_ones(api_client, operator, cohort, people, on_commit):
    api_client.force_authenticate(operator)
    response = on_commit(
        lambda: api_client.post(
            f"/api/v1/cohorts/{cohort.pk}/invitations/resend/",
            {"enrollments": [people["budi"].pk, people["citra"].pk]},
            format="json",
        )
    )
    assert response.json() == {"queued": 1}
    assert [m.to[0] for m in mail.outbox] == [people["budi"].participant.user.email]


def test_resend_refuses_a_malformed_body(api_client, operator, cohort, people):
    api_client.force_authenticate(operator)
    response = api_client.post(
        f"/api/v1/cohorts/{cohort.pk}/invitations/resend/", {"enrollments": ["x"]}, format="json"
    )
    assert response.status_code == 400
    assert "enrollments" in response.json()
    assert not ParticipantMessage.objects.exists()


def test_resend_ignores_enrollments_of_another_cohort(api_client, operator, cohort, people):
    stranger = _enrol(CohortFactory(course=cohort.course), accepted=False)
    api_client.force_authenticate(operator)
    response = api_client.post(
        f"/api/v1/cohorts/{cohort.pk}/invitations/resend/", {"enrollments": [stranger.pk]}, format="json"
    )
    assert response.json() == {"queued": 0}
    assert mail.outbox == []


# --- Reminders ------------------------------------------------------------------------------------


def test_reminders_go_to_those_behind_once_a_day(api_client, operator, cohort, people, on_commit):
    api_client.force_authenticate(operator)
    url = f"/api/v1/cohorts/{cohort.pk}/reminders/"
    response = on_commit(lambda: api_client.post(url))
    assert response.status_code == 202
    assert response.json() == {"queued": 3}  # Ani, Budi, Citra; not Dewi (completed)
    assert len(mail.outbox) == 3
    budi_mail = next(m for m in mail.outbox if m.to == [people["budi"].participant.user.email])
    assert "16%" in budi_mail.body  # 1 of 6 items
    assert f"/learn/{people['budi'].pk}/" in budi_mail.body
    assert "— — —" in budi_mail.body  # Indonesian, then English
    assert on_commit(lambda: api_client.post(url)).json() == {"queued": 0}
    assert on_commit(lambda: reminders_send(cohort=cohort, by=None)) == 0
    assert len(mail.outbox) == 3
    assert ParticipantMessage.objects.filter(kind=MessageKind.REMINDER, sent_at__isnull=False).count() == 3
    assert AuditEntry.objects.filter(action="reminder").count() == 3


def test_the_schedule_reminds_running_cohorts_that_are_due_unless_switched_off(cohort, people):
    off = CohortFactory(
        course=cohort.course, starts_on=cohort.starts_on, ends_on=cohort.ends_on, reminders_enabled=False
    )
    _enrol(off)
    past = CohortFactory(course=cohort.course)  # ended in March
    _enrol(past)
    assert scheduled_reminders_send(every_days=7) == 3
    cohort.refresh_from_db()
    assert cohort.reminded_at is not None
    # Not due again within the week, even on another day.
    ParticipantMessage.objects.all().delete()
    assert scheduled_reminders_send(every_days=7, now=timezone.now() + datetime.timedelta(days=3)) == 0
    assert scheduled_reminders_send(every_days=7, now=timezone.now() + datetime.timedelta(days=7, hours=1)) == 3


def test_the_reminder_task_is_in_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "courses.tasks.reminders_schedule_task" in tasks


# --- Allowances -----------------------------------------------------------------------------------


def test_operator_grants_an_attempt_and_the_participant_can_start_again(api_client, operator, people):
    citra, quiz = people["citra"], people["quiz1"]
    api_client.force_authenticate(citra.participant.user)
    assert api_client.post(f"/api/v1/quizzes/{quiz.pk}/attempts/").status_code == 409
    api_client.force_authenticate(operator)
    response = api_client.post(
        f"/api/v1/enrollments/{citra.pk}/allowances/",
        {"quiz": quiz.pk, "extra_attempts": 1, "reason": "Gangguan jaringan"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json() == {"quiz": quiz.pk, "extra_attempts": 1, "attempts_left": 1}
    allowance = AttemptAllowance.objects.get(enrollment=citra, quiz=quiz)
    assert (allowance.extra, allowance.granted_by, allowance.reason) == (1, operator, "Gangguan jaringan")
    entry = AuditEntry.objects.get(action="grant")
    assert (entry.actor, entry.enrollment, entry.cohort_id) == (operator, citra, citra.cohort_id)
    assert entry.details["extra_attempts"] == 1
    api_client.force_authenticate(citra.participant.user)
    assert api_client.post(f"/api/v1/quizzes/{quiz.pk}/attempts/").status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"extra_attempts": 0, "reason": "x"}, "extra_attempts"),
        ({"extra_attempts": 6, "reason": "x"}, "extra_attempts"),
        ({"extra_attempts": 1, "reason": ""}, "reason"),
        ({"extra_attempts": 1}, "reason"),
        ({"extra_attempts": "many", "reason": "x"}, "extra_attempts"),
        ({"extra_attempts": 1, "reason": 0}, "reason"),  # not text: refused, not turned into "0"
    ],
)
def test_a_bad_grant_is_a_400_at_its_field_and_writes_nothing(api_client, operator, people, body, field):
    api_client.force_authenticate(operator)
    response = api_client.post(
        f"/api/v1/enrollments/{people['citra'].pk}/allowances/", {"quiz": people["quiz1"].pk, **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not AttemptAllowance.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_quiz_of_another_course_is_refused(api_client, operator, people):
    api_client.force_authenticate(operator)
    response = api_client.post(
        f"/api/v1/enrollments/{people['citra'].pk}/allowances/",
        {"quiz": QuizFactory().pk, "extra_attempts": 1, "reason": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "quiz" in response.json()


# --- Corrections, removals, the audit log ---------------------------------------------------------


def test_a_correction_is_saved_recorded_and_announced_after_commit(
    operator, people, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    participant_corrected.connect(receiver, dispatch_uid="test-corrected")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            changes = participant_correct(enrollment=people["budi"], by=operator, full_name="  Budi   Santoso ")
        assert received == []  # not before the commit
        for callback in callbacks:
            callback()
    finally:
        participant_corrected.disconnect(dispatch_uid="test-corrected")
    assert changes == {"full_name": ["Budi", "Budi Santoso"]}
    people["budi"].participant.refresh_from_db()
    assert people["budi"].participant.full_name == "Budi Santoso"
    assert received == [
        {"signal": participant_corrected, "enrollment_id": people["budi"].pk, "by_id": operator.pk, "changes": changes}
    ]
    assert AuditEntry.objects.get(action="correction").details == {"changes": changes}


def test_a_correction_to_an_empty_name_is_refused(operator, people):
    from courses.errors import ParticipantInvalid

    with pytest.raises(ParticipantInvalid):
        participant_correct(enrollment=people["budi"], by=operator, full_name="   ")
    people["budi"].participant.refresh_from_db()
    assert people["budi"].participant.full_name == "Budi"


def test_removal_is_soft_and_leaves_lists_progress_and_reminders(api_client, operator, cohort, people):
    assert enrollment_remove(enrollment=people["ani"], by=operator, reason="Pindah tugas") is True
    assert enrollment_remove(enrollment=people["ani"], by=operator) is False
    assert Enrollment.objects.filter(pk=people["ani"].pk, removed_at__isnull=False).exists()
    api_client.force_authenticate(operator)
    names = [r["full_name"] for r in api_client.get(f"/api/v1/cohorts/{cohort.pk}/enrollments/").json()]
    assert "Ani" not in names
    names = [r["full_name"] for r in api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/").json()]
    assert "Ani" not in names
    assert reminders_send(cohort=cohort, by=operator) == 2
    assert AuditEntry.objects.filter(action="removal").count() == 1


def test_audit_entries_cannot_be_changed_in_the_admin(client, operator, people):
    entry = audit_record(actor=operator, action="grant", enrollment=people["ani"], details={"x": 1})
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    change = client.get(f"/admin/courses/auditentry/{entry.pk}/change/")
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert client.post(f"/admin/courses/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_audit_record_refuses_an_unknown_action(operator):
    with pytest.raises(ValueError):
        audit_record(actor=operator, action="rename")


def test_an_unknown_flag_is_a_400_not_everyone(api_client, operator, cohort, people):
    api_client.force_authenticate(operator)
    response = api_client.get(f"/api/v1/cohorts/{cohort.pk}/enrollments/", {"flag": "AAA"})
    assert response.status_code == 400 and response.json()["code"] == "invalid" and "AAA" in response.json()["detail"]
    assert api_client.get(f"/api/v1/cohorts/{cohort.pk}/enrollments/", {"flag": ""}).status_code == 400
    assert api_client.get(f"/api/v1/cohorts/{cohort.pk}/enrollments/", {"flag": "completed"}).status_code == 200


def test_a_form_with_too_many_fields_is_answered_in_the_apis_error_shape(client, operator, cohort):
    client.force_login(operator)
    body = "&".join(f"enrollments={n}" for n in range(2000))
    response = client.post(
        f"/api/v1/cohorts/{cohort.pk}/reminders/", body, content_type="application/x-www-form-urlencoded"
    )
    assert (response.status_code, response["Content-Type"]) == (400, "application/json")
    assert response.json()["code"] == "parse_error"
    assert not ParticipantMessage.objects.exists()


def test_resending_takes_json_only(api_client, operator, cohort):
    api_client.force_authenticate(operator)
    url = f"/api/v1/cohorts/{cohort.pk}/invitations/resend/"
    assert api_client.post(url, {"enrollments": [1]}, format="multipart").status_code == 415
    assert not ParticipantMessage.objects.exists()
