"""Enrolment import against hostile files: accounts it must not touch, bombs, spoofed names, odd cells."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Enrollment, ParticipantProfile
from tests.courses.enrolment_files import csv_bytes, nip_for, person
from tests.factories import CohortFactory, ParticipantProfileFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def cohort():
    return CohortFactory()


@pytest.fixture
def op_client(api_client, operator):
    api_client.force_authenticate(operator)
    return api_client


def upload(client, cohort, data: bytes, name="peserta.csv", query="", **extra):
    return client.post(
        f"/api/v1/cohorts/{cohort.pk}/enrollments/import/{query}",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
        **extra,
    )


def errors_of(response):
    assert response.status_code == 400, response.content
    return [(e["line"], e["column"]) for e in response.json()["errors"]]


def account_state():
    """Everything an import could change about any account, to compare before and after."""
    return (
        sorted(User.objects.values_list("pk", "username", "email", "password", "is_active", "first_name")),
        sorted(ParticipantProfile.objects.values_list("pk", "user_id", "nip", "full_name", "unit", "position")),
        Enrollment.objects.count(),
    )


@pytest.fixture
def nothing_written():
    """Call it once the test's own accounts exist; at the end it asserts that none of them changed."""
    snapshots = []
    yield lambda: snapshots.append(account_state())
    assert snapshots, "nothing_written() was never called"
    assert account_state() == snapshots[-1]


# --- accounts that are not (only) a participant's -----------------------------------------------


def _staff(nip: str, **extra):
    extra.setdefault("email", "kepala.bidang@kaltimprov.go.id")
    return UserFactory(username=nip, is_staff=True, **extra)


def _superuser(nip: str):
    return UserFactory(username=nip, email="admin@kaltimprov.go.id", is_staff=True, is_superuser=True)


def _operator(nip: str):
    user = UserFactory(username=nip, email="operator@kaltimprov.go.id")
    user.groups.add(Group.objects.get(name="operators"))
    return user


@pytest.mark.parametrize("make", [_staff, _superuser, _operator], ids=["staff", "superuser", "operator"])
@pytest.mark.parametrize("query", ["", "?dry_run=1"], ids=["import", "dry-run"])
def test_a_nip_that_is_the_username_of_a_privileged_account_is_refused(op_client, cohort, nothing_written, make, query):
    make(nip_for(2))
    rows = [person(1), person(2, email="penyerang@example.org")]
    nothing_written()
    response = upload(op_client, cohort, csv_bytes(rows), query=query, HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(3, "nip")]
    assert "not a participant" in response.json()["errors"][0]["message"]
    assert mail.outbox == []


def test_the_takeover_scenario_first_and_second_import_change_nothing(op_client, cohort, nothing_written):
    # Staff given their NIP as username: the file reuses that NIP with the attacker's address, twice.
    admin = _staff(nip_for(2))
    rows = [person(2, email="penyerang@example.org")]
    nothing_written()
    for _ in range(2):
        assert errors_of(upload(op_client, cohort, csv_bytes(rows))) == [(2, "nip")]
    admin.refresh_from_db()
    assert admin.email == "kepala.bidang@kaltimprov.go.id" and admin.has_usable_password()
    assert not hasattr(admin, "participant_profile")


def test_an_inactive_staff_account_is_refused_as_well(op_client, cohort, nothing_written):
    _staff(nip_for(2), is_active=False)
    nothing_written()
    assert errors_of(upload(op_client, cohort, csv_bytes([person(2)]))) == [(2, "nip")]


def test_the_email_of_a_privileged_account_is_refused_in_any_case(op_client, cohort, nothing_written):
    _staff("kabid", email="Kepala.Bidang@Kaltimprov.go.id")
    rows = [person(1), person(2, email="kepala.bidang@KALTIMPROV.go.id")]
    nothing_written()
    assert errors_of(upload(op_client, cohort, csv_bytes(rows))) == [(3, "email")]


def test_staff_username_and_email_together_are_refused_at_the_nip(op_client, cohort, nothing_written):
    # The one pairing the email check lets through (account username = NIP, same email).
    _staff(nip_for(2))
    rows = [person(2, email="kepala.bidang@kaltimprov.go.id")]
    nothing_written()
    assert errors_of(upload(op_client, cohort, csv_bytes(rows))) == [(2, "nip")]


def test_a_participant_cannot_be_given_the_email_of_a_staff_account(op_client, cohort, nothing_written):
    ParticipantProfileFactory(nip=nip_for(2), user__email="peserta2@kaltimprov.go.id")
    UserFactory(username="kabid", email="kepala.bidang@kaltimprov.go.id", is_staff=True)
    rows = [person(2, email="kepala.bidang@kaltimprov.go.id")]
    nothing_written()
    assert errors_of(upload(op_client, cohort, csv_bytes(rows))) == [(2, "email")]


def test_an_email_two_accounts_share_is_refused_whichever_is_found_first(op_client, cohort, nothing_written):
    profile = ParticipantProfileFactory(nip=nip_for(2), user__email="bersama@kaltimprov.go.id")
    UserFactory(username="kabid", email="Bersama@kaltimprov.go.id", is_staff=True)
    rows = [person(2, email="bersama@kaltimprov.go.id", full_name="Nama Baru")]
    nothing_written()
    assert errors_of(upload(op_client, cohort, csv_bytes(rows))) == [(2, "email")]
    profile.refresh_from_db()
    assert profile.full_name != "Nama Baru"


@pytest.mark.parametrize("make", [_staff, _superuser, _operator], ids=["staff", "superuser", "operator"])
def test_a_privileged_account_with_a_participant_profile_is_not_changed(op_client, cohort, nothing_written, make):
    user = make(nip_for(2))
    ParticipantProfile.objects.create(user=user, nip=nip_for(2), full_name="Kepala Bidang")
    rows = [person(2, email="penyerang@example.org", full_name="Kepala Bidang")]
    nothing_written()
    assert errors_of(upload(op_client, cohort, csv_bytes(rows))) == [(2, "nip")]


def test_a_privileged_participant_whose_row_changes_nothing_is_enrolled(op_client, cohort):
    user = _operator(nip_for(2))
    profile = ParticipantProfile.objects.create(
        user=user, nip=nip_for(2), full_name="Operator Belajar", unit="Diskominfo", position="Pranata Komputer"
    )
    row = person(2, email="operator@kaltimprov.go.id", full_name="Operator Belajar", unit="Diskominfo")
    row["position"] = "Pranata Komputer"
    response = upload(op_client, cohort, csv_bytes([row]))
    assert response.status_code == 200, response.content
    assert response.json()["unchanged"] == 1 and response.json()["enrolled"] == 1
    assert Enrollment.objects.filter(cohort=cohort, participant=profile).exists()


@pytest.mark.parametrize("is_active", [True, False])
def test_a_plain_account_named_after_the_nip_is_refused(op_client, cohort, nothing_written, is_active):
    # Not a participant's account (no profile): it may belong to anyone, so the file cannot claim it.
    UserFactory(username=nip_for(2), email="peserta2@kaltimprov.go.id", is_active=is_active)
    nothing_written()
    assert errors_of(upload(op_client, cohort, csv_bytes([person(2)]))) == [(2, "nip")]


def test_a_nip_that_is_the_username_of_another_participant_is_refused(op_client, cohort, nothing_written):
    # The account called after NIP 2 holds NIP 3's profile: attaching a second profile would fail.
    other = ParticipantProfileFactory(nip=nip_for(3))
    User.objects.filter(pk=other.user_id).update(username=nip_for(2))
    nothing_written()
    assert errors_of(upload(op_client, cohort, csv_bytes([person(2)]))) == [(2, "nip")]


def test_the_operator_page_refuses_a_privileged_account_too(client, cohort, operator, nothing_written):
    _superuser(nip_for(2))
    client.force_login(operator)
    nothing_written()
    response = client.post(
        f"/operator/cohorts/{cohort.pk}/import/",
        {"file": SimpleUploadedFile("p.csv", csv_bytes([person(1), person(2)]))},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "<td>3</td><td>nip</td>" in response.content.decode()


def test_checking_accounts_costs_a_fixed_number_of_queries(op_client, cohort, settings):
    settings.COURSES_IMPORT_BATCH_SIZE = 1000

    def queries_for(count: int) -> int:
        for n in range(count):
            ParticipantProfileFactory(nip=nip_for(n), user__email=f"peserta{n}@kaltimprov.go.id")
        with CaptureQueriesContext(connection) as captured:
            response = upload(op_client, cohort, csv_bytes([person(n) for n in range(count)]), query="?dry_run=1")
        assert response.status_code == 200, response.content
        ParticipantProfile.objects.all().delete()
        User.objects.exclude(username="operator-test").delete()
        return len(captured)

    assert queries_for(3) == queries_for(30)
