"""The participants' normalised emails (their unique index, its backfill, how it follows the user's email) and
the import's two ways of writing new rows (COPY on PostgreSQL, bulk_create), all or nothing."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import is_password_usable
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from courses.enrollment_file import EnrollmentFileInvalid
from courses.errors import EnrollmentConflict
from courses.models import Enrollment, ParticipantProfile
from courses.services import enrollment as enrollment_service
from courses.services import enrollment_import
from courses.validators import email_key
from tests.courses.enrollment_files import csv_bytes, nip_for, person
from tests.factories import CohortFactory, ParticipantProfileFactory, UserFactory
from tests.test_migrations import migrate  # the project state at the targets, after migrating there

User = get_user_model()


def table_counts():
    return (User.objects.count(), ParticipantProfile.objects.count(), Enrollment.objects.count())


def import_rows(cohort, rows, **kwargs):
    return enrollment_import(cohort=cohort, upload=io.BytesIO(csv_bytes(rows)), name="p.csv", **kwargs)


# --- the key and its index -------------------------------------------------------------------------------


def test_the_key_is_the_address_as_the_import_reads_it():
    assert email_key("Budi.Santoso@ＫＡＬＴＩＭＰＲＯＶ.go.id") == "budi.santoso@kaltimprov.go.id"
    assert email_key("siti@bücher.example") == "siti@xn--bcher-kva.example"
    assert email_key("") == ""


@pytest.mark.django_db
def test_a_new_profile_takes_its_key_from_the_users_email():
    profile = ParticipantProfileFactory(user__email="Ani@ＫＡＬＴＩＭPROV.go.id")
    profile.refresh_from_db()
    assert profile.email_key == "ani@kaltimprov.go.id"


@pytest.mark.django_db
def test_the_unique_index_refuses_a_second_profile_with_the_same_address_in_another_spelling():
    ParticipantProfileFactory(nip=nip_for(1), user__email="ani@kaltimprov.go.id")
    user = UserFactory(username=nip_for(2), email="ANI@ｋａｌｔｉｍｐｒｏｖ.go.id")
    with pytest.raises(IntegrityError), transaction.atomic():
        ParticipantProfile.objects.create(user=user, nip=nip_for(2), full_name="Ani Lain")
    # Profiles without an address are not each other's duplicates.
    ParticipantProfileFactory(nip=nip_for(3), user__email="")
    ParticipantProfileFactory(nip=nip_for(4), user__email="")
    assert ParticipantProfile.objects.filter(email_key="").count() == 2


@pytest.mark.django_db
def test_the_key_follows_the_users_email_when_the_user_is_saved():
    profile = ParticipantProfileFactory(user__email="ani@kaltimprov.go.id")
    user = profile.user
    user.email = "Ani.Baru@KALTIMPROV.go.id"
    user.save()
    profile.refresh_from_db()
    assert profile.email_key == "ani.baru@kaltimprov.go.id"
    # A save that does not write the email leaves the key (and costs no query for it).
    with CaptureQueriesContext(connection) as captured:
        user.save(update_fields=["last_login"])
    assert len(captured) == 1


@pytest.mark.django_db
def test_an_address_taken_in_the_admin_empties_the_key_and_the_import_still_finds_its_owner():
    ParticipantProfileFactory(nip=nip_for(1), user__email="ani@kaltimprov.go.id")
    second = ParticipantProfileFactory(nip=nip_for(2), user__email="budi@kaltimprov.go.id")
    second.user.email = "ANI@kaltimprov.go.id"
    second.user.save()  # no error: the index keeps the first owner, the second has no key
    second.refresh_from_db()
    assert second.email_key == ""
    # The file gives the first person a new address: the second account has it, so the row is refused.
    User.objects.filter(username=nip_for(1)).update(email="ani.lama@kaltimprov.go.id")
    ParticipantProfile.objects.filter(nip=nip_for(1)).update(email_key="ani.lama@kaltimprov.go.id")
    with pytest.raises(EnrollmentFileInvalid) as refused:
        import_rows(CohortFactory(), [person(1, email="ani@kaltimprov.go.id")])
    assert [(e.line, e.column) for e in refused.value.errors] == [(2, "email")]
    assert "NIP …" + nip_for(2)[-4:] in refused.value.errors[0].message


@pytest.mark.django_db
def test_the_import_keeps_the_key_of_a_changed_address():
    cohort = CohortFactory()
    import_rows(cohort, [person(1)])
    import_rows(cohort, [person(1, email="Peserta.Satu@KALTIMPROV.go.id")])
    profile = ParticipantProfile.objects.select_related("user").get(nip=nip_for(1))
    assert profile.user.email == profile.email_key == "peserta.satu@kaltimprov.go.id"


# --- the backfill --------------------------------------------------------------------------------------

BEFORE = [("courses", "0012_operator_work")]
AFTER = [("courses", "0013_participant_email_key")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_backfill_gives_existing_profiles_their_key_and_a_shared_address_to_the_oldest():
    old = migrate(BEFORE)
    OldUser = old.get_model("auth", "User")
    OldProfile = old.get_model("courses", "ParticipantProfile")

    def profile(n, email):
        user = OldUser.objects.create(username=nip_for(n), email=email)
        return OldProfile.objects.create(user=user, nip=nip_for(n), full_name=f"Peserta {n}").pk

    try:
        ids = [
            profile(1, "Ani@ＫＡＬＴＩＭPROV.go.id"),
            profile(2, "budi@kaltimprov.go.id"),
            profile(3, "BUDI@kaltimprov.go.id"),  # shares the second's address
            profile(4, ""),
        ]
        new = migrate(AFTER)
        keys = dict(new.get_model("courses", "ParticipantProfile").objects.values_list("pk", "email_key"))
        assert [keys[pk] for pk in ids] == ["ani@kaltimprov.go.id", "budi@kaltimprov.go.id", "", ""]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# --- COPY and bulk_create --------------------------------------------------------------------------------


def written(cohort):
    """What an import wrote for ``cohort``, without keys and times (which differ between two runs)."""
    users = list(
        User.objects.filter(participant_profile__enrollments__cohort=cohort)
        .order_by("username")
        .values_list(
            "username",
            "email",
            "password",
            "first_name",
            "last_name",
            "is_staff",
            "is_active",
            "is_superuser",
            "last_login",
        )
    )
    # No usable password (each import makes its own unusable one).
    users = [(*user[:2], not is_password_usable(user[2]), *user[3:]) for user in users]
    profiles = list(
        ParticipantProfile.objects.filter(enrollments__cohort=cohort)
        .order_by("nip")
        .values_list(
            "nip",
            "full_name",
            "unit",
            "position",
            "email_key",
            "language",
            "invited_at",
            "accepted_at",
            "user__username",
        )
    )
    enrollments = list(
        Enrollment.objects.filter(cohort=cohort)
        .order_by("participant__nip")
        .values_list("participant__nip", "completed_at", "removed_at")
    )
    stamped = (
        User.objects.filter(participant_profile__enrollments__cohort=cohort, date_joined__isnull=False).count(),
        ParticipantProfile.objects.filter(enrollments__cohort=cohort, created_at__isnull=False).count(),
        Enrollment.objects.filter(cohort=cohort, enrolled_at__isnull=False).count(),
    )
    return users, profiles, enrollments, stamped


@pytest.mark.django_db
def test_the_copy_path_and_the_bulk_create_path_write_the_same_rows(settings):
    assert connection.vendor == "postgresql"
    rows = [person(n, unit='Dinas;Kominfo\t\\ "Kaltim"' if n == 3 else "") for n in range(1, 31)]

    def run(copy_min_rows):
        settings.COURSES_IMPORT_COPY_MIN_ROWS = copy_min_rows
        cohort = CohortFactory()
        with CaptureQueriesContext(connection) as captured:
            result = import_rows(cohort, rows)
        assert result.created == 30
        copied = any("pg_get_serial_sequence" in q["sql"] for q in captured)
        state = written(cohort)
        # The next import of the same people finds them all unchanged, whichever way they were written.
        assert import_rows(CohortFactory(), rows).unchanged == 30
        ParticipantProfile.objects.all().delete()
        User.objects.filter(username__in=[r["nip"] for r in rows]).delete()
        return copied, state

    copied, by_copy = run(1)
    inserted, by_insert = run(10**9)
    assert (copied, inserted) == (True, False)
    assert by_copy == by_insert
    assert by_copy[3] == (30, 30, 30)
    # The sequences moved past the copied keys: rows written the ordinary way still get fresh keys.
    settings.COURSES_IMPORT_COPY_MIN_ROWS = 1
    import_rows(CohortFactory(), rows[:5])
    ParticipantProfileFactory(nip=nip_for(500))
    assert ParticipantProfile.objects.count() == 6


@pytest.mark.django_db
def test_a_failure_after_the_copy_leaves_nothing_written(settings, monkeypatch):
    settings.COURSES_IMPORT_COPY_MIN_ROWS = 1
    cohort = CohortFactory()
    before = table_counts()

    def audit_fails(**kwargs):
        assert User.objects.count() == before[0] + 20  # the rows are written by now
        raise IntegrityError("written concurrently")

    monkeypatch.setattr("courses.services.operator.audit_record", audit_fails)
    with pytest.raises(EnrollmentConflict):
        import_rows(cohort, [person(n) for n in range(20)])
    assert table_counts() == before


@pytest.mark.django_db
def test_a_copy_that_meets_a_row_written_since_the_check_fails_and_writes_nothing(settings, monkeypatch):
    settings.COURSES_IMPORT_COPY_MIN_ROWS = 1
    cohort = CohortFactory()
    checked = enrollment_service._existing_for_rows

    def account_created_meanwhile(rows, batch):
        existing = checked(rows, batch)
        UserFactory(username=rows[-1].nip)  # another request creates it between the check and the write
        return existing

    monkeypatch.setattr(enrollment_service, "_existing_for_rows", account_created_meanwhile)
    before = table_counts()
    with pytest.raises(EnrollmentConflict):
        import_rows(cohort, [person(n) for n in range(20)])
    assert table_counts() == before


# --- what the file's text check lets through quickly ---------------------------------------------------


@pytest.mark.parametrize("code", [c for c in range(0x80) if chr(c) not in "\t\n\r"])
def test_plain_text_passes_and_every_other_ascii_control_character_is_still_refused(code):
    from django.core.exceptions import ValidationError

    from courses.validators import visible_text_validate

    text = f"Dinas {chr(code)} Kominfo"
    if chr(code).isprintable():
        visible_text_validate(text)
    else:
        with pytest.raises(ValidationError):
            visible_text_validate(text)
    visible_text_validate("Dinas\tKominfo\r\nKaltim")
