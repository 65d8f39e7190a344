"""Operator pages: cohorts, the participants list, and upload → report → confirm."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from courses.models import Cohort, Enrollment, ParticipantProfile
from courses.services import STAGED_UPLOADS_DIR
from tests.courses.enrollment_files import csv_bytes, nip_for, person
from tests.factories import CohortFactory, CourseFactory, EnrollmentFactory, ParticipantProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


def test_anonymous_is_sent_to_log_in_and_participants_are_refused(client):
    cohort = CohortFactory()
    for url in ("/operator/cohorts/", f"/operator/cohorts/{cohort.pk}/", f"/operator/cohorts/{cohort.pk}/import/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    client.force_login(ParticipantProfileFactory().user)
    for url in ("/operator/cohorts/", f"/operator/cohorts/{cohort.pk}/", f"/operator/cohorts/{cohort.pk}/import/"):
        assert client.get(url).status_code == 403


def test_operator_creates_a_cohort_and_lands_on_its_upload_page(operator_client):
    course = CourseFactory()
    response = operator_client.post(
        "/operator/cohorts/",
        {"course": course.pk, "name": "Angkatan II", "starts_on": "2026-05-04", "ends_on": "2026-06-26"},
    )
    cohort = Cohort.objects.get(name="Angkatan II")
    assert response.status_code == 302 and response.url == f"/operator/cohorts/{cohort.pk}/import/"


def test_cohort_form_refuses_end_before_start(operator_client):
    course = CourseFactory()
    response = operator_client.post(
        "/operator/cohorts/",
        {"course": course.pk, "name": "Salah", "starts_on": "2026-05-04", "ends_on": "2026-05-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "The start date must be on or before the end date." in response.content.decode()
    assert not Cohort.objects.filter(name="Salah").exists()


def test_upload_with_errors_shows_the_table_and_saves_nothing(operator_client):
    cohort = CohortFactory()
    data = csv_bytes([person(1), person(2, nip="12345"), person(3, email="rusak")])
    response = operator_client.post(
        f"/operator/cohorts/{cohort.pk}/import/", {"file": SimpleUploadedFile("p.csv", data)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "has 2 problems — nothing was saved" in html
    assert "<td>3</td><td>nip</td>" in html and "<td>4</td><td>email</td>" in html
    assert ParticipantProfile.objects.count() == 0


def test_upload_report_then_confirm_imports(operator_client):
    cohort = CohortFactory()
    data = csv_bytes([person(1), person(2)])
    response = operator_client.post(
        f"/operator/cohorts/{cohort.pk}/import/", {"file": SimpleUploadedFile("p.csv", data)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 new participant accounts will be created" in html
    assert ParticipantProfile.objects.count() == 0  # the report writes nothing
    token = response.context["token"]
    response = operator_client.post(f"/operator/cohorts/{cohort.pk}/import/", {"token": token}, follow=True)
    assert response.redirect_chain[-1][0] == f"/operator/cohorts/{cohort.pk}/"
    assert Enrollment.objects.filter(cohort=cohort).count() == 2
    # the same confirmation cannot be replayed
    again = operator_client.post(f"/operator/cohorts/{cohort.pk}/import/", {"token": token})
    assert again.status_code == 302 and again.url == f"/operator/cohorts/{cohort.pk}/import/"
    assert Enrollment.objects.filter(cohort=cohort).count() == 2


def test_a_token_of_another_cohort_is_refused(operator_client):
    first, second = CohortFactory(), CohortFactory()
    response = operator_client.post(
        f"/operator/cohorts/{first.pk}/import/", {"file": SimpleUploadedFile("p.csv", csv_bytes([person(1)]))}
    )
    operator_client.post(f"/operator/cohorts/{second.pk}/import/", {"token": response.context["token"]})
    assert Enrollment.objects.count() == 0


def test_cohort_page_searches_by_name_or_nip_and_filters_by_unit(operator_client):
    cohort = CohortFactory()
    EnrollmentFactory(cohort=cohort, participant=ParticipantProfileFactory(full_name="Andi Wijaya", unit="Bappeda"))
    other = EnrollmentFactory(
        cohort=cohort, participant=ParticipantProfileFactory(full_name="Budi Hartono", unit="Dinkes")
    )
    url = f"/operator/cohorts/{cohort.pk}/"
    assert "Andi Wijaya" in operator_client.get(url).content.decode()
    html = operator_client.get(url, {"q": "budi"}).content.decode()
    assert "Budi Hartono" in html and "Andi Wijaya" not in html
    html = operator_client.get(url, {"q": other.participant.nip[:10]}).content.decode()
    assert "Budi Hartono" in html
    html = operator_client.get(url, {"unit": "Bappeda"}).content.decode()
    assert "Andi Wijaya" in html and "Budi Hartono" not in html


def test_admin_finds_enrollments_by_nip(client, admin_user):
    cohort, other_cohort = CohortFactory(), CohortFactory()
    wanted = EnrollmentFactory(cohort=cohort, participant=ParticipantProfileFactory(nip=nip_for(5)))
    for n in (6, 7, 8):  # neighbours whose NIPs share most digits with the one searched for
        EnrollmentFactory(cohort=cohort, participant=ParticipantProfileFactory(nip=nip_for(n)))
    EnrollmentFactory(cohort=other_cohort, participant=ParticipantProfileFactory(nip=nip_for(9)))
    client.force_login(admin_user)

    response = client.get("/admin/courses/enrollment/", {"q": nip_for(5)})
    assert response.status_code == 200
    assert [e.pk for e in response.context["cl"].result_list] == [wanted.pk]
    assert wanted.participant.full_name in response.content.decode()

    response = client.get("/admin/courses/cohort/", {"q": nip_for(5)})
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [cohort.pk]


def test_admin_lists_a_cohorts_enrollments_through_the_filter(client, admin_user):
    cohort, other_cohort = CohortFactory(), CohortFactory()
    mine = {EnrollmentFactory(cohort=cohort).pk for _ in range(3)}
    EnrollmentFactory(cohort=other_cohort)
    client.force_login(admin_user)
    response = client.get("/admin/courses/enrollment/", {"cohort__id__exact": cohort.pk})
    assert response.status_code == 200
    assert {e.pk for e in response.context["cl"].result_list} == mine


def _enrol_many(cohort, size: int) -> None:
    """``size`` participants in ``cohort``, written in bulk (factories would take seconds)."""
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=nip_for(n), email=f"peserta{n}@example.org", password="!") for n in range(size)]
    )
    profiles = ParticipantProfile.objects.bulk_create(
        [ParticipantProfile(user=u, nip=u.username, full_name=f"Peserta {u.username}") for u in users]
    )
    Enrollment.objects.bulk_create([Enrollment(cohort=cohort, participant=p) for p in profiles])


def test_admin_cohort_page_of_a_large_cohort_costs_a_bounded_number_of_queries(
    client, admin_user, django_assert_max_num_queries
):
    cohort = CohortFactory()
    _enrol_many(cohort, 300)
    client.force_login(admin_user)
    with django_assert_max_num_queries(8):
        response = client.get(f"/admin/courses/cohort/{cohort.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/admin/courses/enrollment/?cohort__id__exact={cohort.pk}">View 300 enrolments</a>' in html
    assert "enrollments-TOTAL_FORMS" not in html  # no inline formset: a save posts a handful of fields
    with django_assert_max_num_queries(16):
        response = client.post(
            f"/admin/courses/cohort/{cohort.pk}/change/",
            {
                "course": cohort.course_id,
                "name": "Angkatan Besar",
                "starts_on": "2026-01-05",
                "ends_on": "2026-03-27",
            },
        )
    assert response.status_code == 302
    cohort.refresh_from_db()
    assert cohort.name == "Angkatan Besar"
    assert Enrollment.objects.filter(cohort=cohort).count() == 300
    assert client.get("/admin/courses/cohort/add/").status_code == 200


# --- staged enrolment files (personal data) -----------------------------------------------------


@pytest.fixture
def staged():
    """Lists the staged enrolment files; starts from none (the test storage outlives each test)."""

    def files() -> list[str]:
        try:
            return sorted(default_storage.listdir(STAGED_UPLOADS_DIR)[1])
        except FileNotFoundError:
            return []

    for name in files():
        default_storage.delete(f"{STAGED_UPLOADS_DIR}/{name}")
    return files


def check_file(client, cohort, rows):
    response = client.post(
        f"/operator/cohorts/{cohort.pk}/import/", {"file": SimpleUploadedFile("p.csv", csv_bytes(rows))}
    )
    assert response.status_code == 200
    return response.context["token"]


def test_a_confirmed_import_deletes_the_staged_file(operator_client, staged):
    cohort = CohortFactory()
    token = check_file(operator_client, cohort, [person(1), person(2)])
    assert len(staged()) == 1  # kept between the report and the confirmation
    response = operator_client.post(f"/operator/cohorts/{cohort.pk}/import/", {"token": token})
    assert response.status_code == 302 and response.url == f"/operator/cohorts/{cohort.pk}/"
    assert Enrollment.objects.filter(cohort=cohort).count() == 2
    assert staged() == []


def test_a_confirmation_that_fails_deletes_the_staged_file_and_writes_nothing(operator_client, staged):
    cohort = CohortFactory()
    token = check_file(operator_client, cohort, [person(1), person(2)])
    # Between the report and the confirmation, someone else gets the email of row 2.
    ParticipantProfileFactory(user__email="peserta2@kaltimprov.go.id")
    before = (ParticipantProfile.objects.count(), Enrollment.objects.count())
    response = operator_client.post(f"/operator/cohorts/{cohort.pk}/import/", {"token": token})
    assert response.status_code == 400
    assert [(e.line, e.column) for e in response.context["errors"]] == [(3, "email")]
    assert (ParticipantProfile.objects.count(), Enrollment.objects.count()) == before
    assert staged() == []


def test_a_conflicting_import_deletes_the_staged_file(operator_client, staged, monkeypatch):
    from courses.errors import EnrollmentConflict
    from courses.views import operator as views

    def conflict(**kwargs):
        raise EnrollmentConflict()

    cohort = CohortFactory()
    token = check_file(operator_client, cohort, [person(1)])
    monkeypatch.setattr(views, "enrollment_import", conflict)
    response = operator_client.post(f"/operator/cohorts/{cohort.pk}/import/", {"token": token})
    assert response.status_code == 302 and response.url == f"/operator/cohorts/{cohort.pk}/import/"
    assert staged() == []
    assert ParticipantProfile.objects.count() == 0


def test_cancelling_deletes_the_staged_file_and_imports_nothing(operator_client, staged):
    cohort = CohortFactory()
    token = check_file(operator_client, cohort, [person(1), person(2)])
    response = operator_client.post(f"/operator/cohorts/{cohort.pk}/import/", {"token": token, "cancel": "1"})
    assert response.status_code == 302 and response.url == f"/operator/cohorts/{cohort.pk}/import/"
    assert staged() == []
    assert ParticipantProfile.objects.count() == 0 and Enrollment.objects.count() == 0
    # The cancelled token cannot be confirmed afterwards.
    response = operator_client.post(f"/operator/cohorts/{cohort.pk}/import/", {"token": token})
    assert response.status_code == 302 and response.url == f"/operator/cohorts/{cohort.pk}/import/"
    assert Enrollment.objects.count() == 0


def test_the_report_offers_a_cancel_button(operator_client, staged):
    cohort = CohortFactory()
    response = operator_client.post(
        f"/operator/cohorts/{cohort.pk}/import/",
        {"file": SimpleUploadedFile("p.csv", csv_bytes([person(1)]))},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert '<button class="btn secondary" type="submit" name="cancel" value="1">Cancel</button>' in (
        response.content.decode()
    )


def test_the_purge_task_deletes_abandoned_files_and_their_confirmation_expires(operator_client, staged, settings):
    from courses.tasks import enrollment_uploads_purge_task

    cohort = CohortFactory()
    token = check_file(operator_client, cohort, [person(1)])
    assert enrollment_uploads_purge_task() == 0  # fresh: the operator may still confirm
    assert len(staged()) == 1
    settings.COURSES_IMPORT_STAGED_MAX_AGE_SECONDS = -1  # as if the operator had left long ago
    assert enrollment_uploads_purge_task() == 1
    assert staged() == []
    response = operator_client.post(
        f"/operator/cohorts/{cohort.pk}/import/", {"token": token}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.redirect_chain[-1][0] == f"/operator/cohorts/{cohort.pk}/import/"
    assert "That upload has expired; please choose the file again." in response.content.decode()
    assert ParticipantProfile.objects.count() == 0


def test_the_purge_keeps_fresh_files_and_deletes_stale_ones(staged):
    import datetime

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from courses.services import enrollment_upload_stage, enrollment_uploads_purge

    fresh = enrollment_upload_stage(data=b"nip,full_name,email\n")
    stale = enrollment_upload_stage(data=b"nip,full_name,email\n")
    old = int((timezone.now() - datetime.timedelta(hours=3)).timestamp())
    stale_name = f"{STAGED_UPLOADS_DIR}/{old}-abc"
    default_storage.save(stale_name, ContentFile(default_storage.open(stale).read()))
    default_storage.delete(stale)
    legacy = default_storage.save(f"{STAGED_UPLOADS_DIR}/0123abcdef", ContentFile(b"x"))  # name without a time
    assert len(staged()) == 3

    assert enrollment_uploads_purge() == 1  # the legacy file was just written: its storage time is fresh
    assert staged() == sorted([fresh.rsplit("/", 1)[1], legacy.rsplit("/", 1)[1]])
    later = timezone.now() + datetime.timedelta(hours=2, minutes=1)
    assert enrollment_uploads_purge(now=later) == 2
    assert staged() == []
    assert enrollment_uploads_purge(now=later) == 0
