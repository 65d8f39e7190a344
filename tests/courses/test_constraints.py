"""The database itself guards the courses invariants, even for writes that skip the services."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from courses.models import Cohort, Enrollment, ParticipantProfile
from tests.factories import CohortFactory, CourseFactory, EnrollmentFactory, ParticipantProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_cohort_cannot_end_before_it_starts():
    course = CourseFactory()
    with pytest.raises(IntegrityError, match="cohort_starts_before_ends"), transaction.atomic():
        Cohort.objects.create(
            course=course, name="Terbalik", starts_on=datetime.date(2026, 5, 4), ends_on=datetime.date(2026, 5, 3)
        )
    assert not Cohort.objects.exists()


def test_a_cohort_cannot_be_updated_to_end_before_it_starts():
    cohort = CohortFactory(starts_on=datetime.date(2026, 5, 4), ends_on=datetime.date(2026, 6, 26))
    with pytest.raises(IntegrityError, match="cohort_starts_before_ends"), transaction.atomic():
        Cohort.objects.filter(pk=cohort.pk).update(ends_on=datetime.date(2026, 5, 1))
    cohort.refresh_from_db()
    assert cohort.ends_on == datetime.date(2026, 6, 26)


def test_a_one_day_cohort_is_allowed():
    cohort = CohortFactory(starts_on=datetime.date(2026, 5, 4), ends_on=datetime.date(2026, 5, 4))
    assert Cohort.objects.filter(pk=cohort.pk).exists()


def test_one_enrollment_per_participant_and_cohort():
    enrollment = EnrollmentFactory()
    with pytest.raises(IntegrityError, match="enrollment_unique_participant_cohort"), transaction.atomic():
        Enrollment.objects.create(participant=enrollment.participant, cohort=enrollment.cohort)
    assert list(Enrollment.objects.values_list("pk", flat=True)) == [enrollment.pk]
    # The same person in another cohort is fine.
    other = Enrollment.objects.create(participant=enrollment.participant, cohort=CohortFactory())
    assert Enrollment.objects.filter(participant=enrollment.participant).count() == 2
    assert other.pk != enrollment.pk


def test_bulk_enrollment_without_ignore_conflicts_cannot_duplicate():
    enrollment = EnrollmentFactory()
    with pytest.raises(IntegrityError, match="enrollment_unique_participant_cohort"), transaction.atomic():
        Enrollment.objects.bulk_create([Enrollment(participant=enrollment.participant, cohort=enrollment.cohort)])
    assert Enrollment.objects.count() == 1


@pytest.mark.parametrize(
    "nip",
    [
        "19800101200501100",  # 17 digits (19 would not even fit the column)
        "19800101 200501 10",  # 18 characters with spaces: the import strips them, the table never has them
        "1980-0101-20050110",  # 18 characters with dashes
        "19800101200501100A",  # a letter
        "",
    ],
)
def test_a_stored_nip_is_exactly_18_digits(nip):
    user = UserFactory(username="bukan-nip")
    with pytest.raises(IntegrityError, match="participant_nip_18_digits"), transaction.atomic():
        ParticipantProfile.objects.create(user=user, nip=nip, full_name="Peserta")
    assert not ParticipantProfile.objects.exists()


def test_a_nip_cannot_be_updated_to_a_malformed_value():
    profile = ParticipantProfileFactory()
    with pytest.raises(IntegrityError, match="participant_nip_18_digits"), transaction.atomic():
        ParticipantProfile.objects.filter(pk=profile.pk).update(nip="12345")
    profile.refresh_from_db()
    assert len(profile.nip) == 18 and profile.nip.isdigit()
