"""Operator pages: cohorts, the participants list, and upload → report → confirm."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from courses.models import Cohort, Enrollment, ParticipantProfile
from tests.courses.enrolment_files import csv_bytes, nip_for, person
from tests.factories import CohortFactory, CourseFactory, EnrollmentFactory, ParticipantProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    user = UserFactory(username="operator1")
    user.groups.add(Group.objects.get(name="operators"))
    client.force_login(user)
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


def test_admin_finds_enrolments_by_nip(client, admin_user):
    enrollment = EnrollmentFactory(participant=ParticipantProfileFactory(nip=nip_for(5)))
    client.force_login(admin_user)
    response = client.get("/admin/courses/enrollment/", {"q": nip_for(5)})
    assert response.status_code == 200
    assert enrollment.participant.full_name in response.content.decode()
    assert client.get("/admin/courses/cohort/", {"q": nip_for(5)}).status_code == 200
