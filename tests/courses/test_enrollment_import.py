"""Enrolment file import: every rule of the enrolment table, malformed input, idempotence, permissions."""

import datetime
import io
import re
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from openpyxl import Workbook

from courses.models import Enrollment, ParticipantProfile
from tests.courses.enrollment_files import HEADER, csv_bytes, nip_for, person, xlsx_bytes
from tests.factories import CohortFactory, ParticipantProfileFactory

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


def table_counts():
    return (User.objects.count(), ParticipantProfile.objects.count(), Enrollment.objects.count())


@pytest.fixture
def nothing_written():
    """Asserts, at the end of the test, that no user, profile or enrolment was written."""
    before = table_counts()
    yield
    assert table_counts() == before


def errors_of(response):
    assert response.status_code == 400, response.content
    return [(e["line"], e["column"]) for e in response.json()["errors"]]


# --- accepted formats -------------------------------------------------------------------------


def test_valid_csv_creates_accounts_profiles_and_enrollments(op_client, cohort):
    rows = [person(1), person(2), person(3)]
    response = upload(op_client, cohort, csv_bytes(rows))
    assert response.status_code == 200
    assert response.json() == {"created": 3, "updated": 0, "unchanged": 0, "total": 3, "enrolled": 3, "dry_run": False}
    profile = ParticipantProfile.objects.get(nip=nip_for(2))
    assert profile.full_name == "Peserta Nomor 2"
    assert profile.unit == "Badan Perencanaan Pembangunan Daerah"
    assert profile.position == "Kepala Bidang"
    assert profile.user.username == nip_for(2)
    assert profile.user.email == "peserta2@kaltimprov.go.id"
    assert profile.user.has_usable_password() is False
    assert set(Enrollment.objects.filter(cohort=cohort).values_list("participant__nip", flat=True)) == {
        nip_for(1),
        nip_for(2),
        nip_for(3),
    }


def test_semicolon_bom_any_header_case_and_order_spaces_in_nip(op_client, cohort):
    header = ["EMAIL", "Full_Name", " NIP ", "Position"]
    rows = [{"email": "A@Example.org", "full_name": "  Siti   Rahmawati ", "nip": "19850330 201001 1 002"}]
    data = "\ufeff".encode() + csv_bytes(rows, delimiter=";", header=header)
    response = upload(op_client, cohort, data)
    assert response.status_code == 200, response.content
    profile = ParticipantProfile.objects.get()
    assert (profile.nip, profile.full_name, profile.user.email, profile.unit) == (
        "198503302010011002",
        "Siti Rahmawati",
        "a@example.org",
        "",
    )


def test_xlsx_is_read(op_client, cohort):
    rows = [person(1, full_name="Ni Luh Putu Ayu Wulandari"), person(2)]
    response = upload(op_client, cohort, xlsx_bytes(rows), name="peserta.xlsx")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    assert ParticipantProfile.objects.get(nip=nip_for(1)).full_name == "Ni Luh Putu Ayu Wulandari"


@pytest.mark.parametrize("nip_as", [int, float])
def test_xlsx_nip_stored_as_a_number_is_refused_with_a_fix(op_client, cohort, nothing_written, nip_as):
    # An 18-digit number does not fit a spreadsheet's double: the file itself holds 1.98...e+17.
    response = upload(op_client, cohort, xlsx_bytes([person(1), person(2)], nip_as=nip_as), name="p.xlsx")
    assert errors_of(response) == [(2, "nip"), (3, "nip")]
    assert "menjadi Teks (Text)" in response.json()["errors"][0]["message"]


def test_utf16_unicode_text_is_read_correctly(op_client, cohort):
    rows = [person(1, full_name="Nguyễn Văn Ánh"), person(2, full_name="Łukasz Żółć")]
    data = csv_bytes(rows, delimiter="\t", encoding="utf-16")
    assert data[:2] == b"\xff\xfe"
    response = upload(op_client, cohort, data, name="peserta.txt")
    assert response.status_code == 200, response.content
    assert set(ParticipantProfile.objects.values_list("full_name", flat=True)) == {"Nguyễn Văn Ánh", "Łukasz Żółć"}


def test_windows_1252_is_refused_with_how_to_save(op_client, cohort, nothing_written):
    data = csv_bytes([person(1, full_name="José Ramírez")], encoding="cp1252")
    response = upload(op_client, cohort, data, HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(None, None)]
    message = response.json()["errors"][0]["message"]
    assert "UTF-8" in message and "Save As" in message


# --- one rule at a time, each with its line and column and nothing written --------------------


@pytest.mark.parametrize(
    "override, column, code_word",
    [
        ({"nip": "19850330201001100"}, "nip", "18"),  # 17 digits
        ({"nip": "198502302010011002"}, "nip", "lahir"),  # 30 February
        ({"nip": "198503302010131002"}, "nip", "pengangkatan"),  # month 13
        ({"nip": "198503302010013002"}, "nip", "jenis kelamin"),  # sex digit 3
        ({"full_name": "   "}, "full_name", "wajib"),
        ({"full_name": "x" * 151}, "full_name", "151"),
        ({"email": "bukan-email"}, "email", "bukan-email"),
        ({"email": ""}, "email", "wajib"),
        ({"full_name": '=HYPERLINK("http://evil","klik")'}, "full_name", "="),
        ({"unit": "@SUM(A1:A2)"}, "unit", "@"),
        ({"position": "+62 811"}, "position", "+"),
    ],
)
def test_each_invalid_value_is_reported_at_its_line_and_column(
    op_client, cohort, nothing_written, override, column, code_word
):
    rows = [person(1), person(2, **override), person(3)]
    response = upload(op_client, cohort, csv_bytes(rows))
    assert errors_of(response) == [(3, column)]
    assert code_word in response.json()["errors"][0]["message"]


def test_every_problem_is_reported_at_once(op_client, cohort, nothing_written):
    rows = [person(1, nip="123"), person(2, email="x"), person(3), person(4, full_name="")]
    response = upload(op_client, cohort, csv_bytes(rows))
    assert errors_of(response) == [(2, "nip"), (3, "email"), (5, "full_name")]


def test_duplicate_nip_is_an_error_on_both_lines(op_client, cohort, nothing_written):
    rows = [person(1), person(2), person(3, nip=nip_for(1))]
    response = upload(op_client, cohort, csv_bytes(rows))
    assert errors_of(response) == [(2, "nip"), (4, "nip")]
    assert "2, 4" in response.json()["errors"][0]["message"]


def test_one_email_for_two_nips_is_an_error_on_both_lines(op_client, cohort, nothing_written):
    rows = [person(1, email="sama@example.org"), person(2, email="SAMA@example.org")]
    response = upload(op_client, cohort, csv_bytes(rows))
    assert errors_of(response) == [(2, "email"), (3, "email")]


def test_email_of_another_existing_person_is_refused(op_client, cohort):
    ParticipantProfileFactory(user__email="dipakai@example.org")
    before = table_counts()
    response = upload(op_client, cohort, csv_bytes([person(1, email="Dipakai@example.org")]))
    assert errors_of(response) == [(2, "email")]
    assert table_counts() == before


def test_missing_required_columns_are_reported_on_line_1(op_client, cohort, nothing_written):
    data = csv_bytes([person(1)], header=["nip", "unit"])
    response = upload(op_client, cohort, data)
    assert errors_of(response) == [(1, "full_name"), (1, "email")]


@pytest.mark.parametrize(
    "data, name, words",
    [
        (b"", "kosong.csv", "empty"),
        (b"\r\n\r\n  \r\n", "kosong.csv", "empty"),
        (bytes(range(256)) * 20, "sampah.csv", "binary data"),
        (b"PK\x03\x04" + b"\x00garbage" * 50, "rusak.xlsx", "damaged"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "lama.xls", ".xls"),
    ],
)
def test_empty_or_binary_files_get_a_clear_error(op_client, cohort, nothing_written, data, name, words):
    response = upload(op_client, cohort, data, name=name, HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(None, None)]
    assert words in response.json()["errors"][0]["message"]


def test_an_unclosed_quote_is_a_clear_error_not_a_crash(op_client, cohort, nothing_written):
    # The csv module reads everything after an unclosed quote as one field and gives up past 128 KB.
    data = csv_bytes([person(1)]) + b'198001012005011001,"Tanpa Tutup,a@b.id\r\n' + b"x" * 140_000
    response = upload(op_client, cohort, data, HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(3, None)]
    assert "quotation mark" in response.json()["errors"][0]["message"]


def _xlsx_rewritten(data: bytes, member: str, change) -> bytes:
    """The workbook ``data`` with one of its zip members passed through ``change``."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item, change(content) if item.filename == member else content)
    return out.getvalue()


def test_a_damaged_xlsx_sheet_is_a_clear_error_not_a_crash(op_client, cohort, nothing_written):
    good = xlsx_bytes([person(n) for n in range(5)])
    data = _xlsx_rewritten(good, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])
    response = upload(op_client, cohort, data, name="rusak.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(None, None)]
    assert "damaged" in response.json()["errors"][0]["message"]


def test_xlsx_with_a_wrong_stored_size_is_read_whole(op_client, cohort):
    # Some tools write <dimension ref="A1"/> whatever the sheet holds; read-only mode would trust it.
    good = xlsx_bytes([person(1), person(2)])
    data = _xlsx_rewritten(
        good, "xl/worksheets/sheet1.xml", lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', xml)
    )
    assert data != good
    response = upload(op_client, cohort, data, name="peserta.xlsx")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2


def test_empty_xlsx_rows_do_not_count_towards_the_row_limit(op_client, cohort, settings):
    settings.COURSES_IMPORT_MAX_ROWS = 3
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for _ in range(3):
        sheet.append([None] * len(HEADER))
    for n in range(3):
        sheet.append([person(n)[c] for c in HEADER])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(op_client, cohort, buffer.getvalue(), name="peserta.xlsx")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 3


def test_utf16_without_a_byte_order_mark_is_read_correctly(op_client, cohort):
    rows = [person(1, full_name="Nguyễn Văn Ánh"), person(2, full_name="Siti Rahmawati")]
    data = csv_bytes(rows, delimiter="\t", encoding="utf-16-le")
    assert data[:2] != b"\xff\xfe"
    response = upload(op_client, cohort, data, name="peserta.txt")
    assert response.status_code == 200, response.content
    assert set(ParticipantProfile.objects.values_list("full_name", flat=True)) == {"Nguyễn Văn Ánh", "Siti Rahmawati"}


def test_a_dash_in_an_optional_column_means_empty(op_client, cohort):
    response = upload(op_client, cohort, csv_bytes([person(1, unit="-", position="–")]))
    assert response.status_code == 200, response.content
    profile = ParticipantProfile.objects.get(nip=nip_for(1))
    assert (profile.unit, profile.position) == ("", "")


def test_header_only_file_is_refused(op_client, cohort, nothing_written):
    assert errors_of(upload(op_client, cohort, csv_bytes([]))) == [(2, None)]


def test_oversize_file_is_refused(op_client, cohort, nothing_written, settings):
    settings.COURSES_IMPORT_MAX_BYTES = 1000
    response = upload(op_client, cohort, csv_bytes([person(n) for n in range(40)]), HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(None, None)]
    message = response.json()["errors"][0]["message"]
    assert re.fullmatch(
        r"The file is [0-9.]+\xa0KB; the limit is 1000\xa0bytes\. Split it into smaller files\.", message
    )


def test_too_many_rows_is_refused(op_client, cohort, nothing_written, settings):
    settings.COURSES_IMPORT_MAX_ROWS = 5
    response = upload(op_client, cohort, csv_bytes([person(n) for n in range(6)]), HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(None, None)]
    assert "more than 5 rows" in response.json()["errors"][0]["message"]


def test_missing_file_field_is_400(op_client, cohort, nothing_written):
    response = op_client.post(f"/api/v1/cohorts/{cohort.pk}/enrollments/import/", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["line"] is None


def test_messages_follow_the_request_language(op_client, cohort):
    rows = [person(1, nip="123")]
    indonesian = upload(op_client, cohort, csv_bytes(rows)).json()["errors"][0]["message"]
    english = upload(op_client, cohort, csv_bytes(rows), HTTP_ACCEPT_LANGUAGE="en").json()["errors"][0]["message"]
    assert indonesian == "NIP harus tepat 18 digit (tertulis 3 digit)."
    assert english == "NIP must be exactly 18 digits (found 3)."


# --- dry run, idempotence, updates ------------------------------------------------------------


def test_dry_run_reports_counts_and_writes_nothing(
    op_client, cohort, nothing_written, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(op_client, cohort, csv_bytes([person(1), person(2)]), query="?dry_run=1")
    assert response.status_code == 200
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0, "total": 2, "enrolled": 2, "dry_run": True}
    assert callbacks == []


def test_dry_run_reports_the_same_errors(op_client, cohort, nothing_written):
    response = upload(op_client, cohort, csv_bytes([person(1, nip="1")]), query="?dry_run=1")
    assert errors_of(response) == [(2, "nip")]


def test_importing_the_same_file_twice_changes_nothing(op_client, cohort):
    data = csv_bytes([person(n) for n in range(5)])
    assert upload(op_client, cohort, data).json()["created"] == 5
    before = list(ParticipantProfile.objects.order_by("pk").values())
    response = upload(op_client, cohort, data)
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 5, "total": 5, "enrolled": 0, "dry_run": False}
    assert list(ParticipantProfile.objects.order_by("pk").values()) == before
    assert Enrollment.objects.count() == 5


def test_changed_details_are_updated_and_matched_by_nip(op_client, cohort):
    upload(op_client, cohort, csv_bytes([person(1), person(2)]))
    changed = [
        person(1, full_name="Nama Baru", email="baru@example.org", unit="Inspektorat", position="Sekretaris"),
        person(2),
    ]
    response = upload(op_client, cohort, csv_bytes(changed))
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 1, "total": 2, "enrolled": 0, "dry_run": False}
    profile = ParticipantProfile.objects.get(nip=nip_for(1))
    assert (profile.full_name, profile.user.email, profile.unit, profile.position) == (
        "Nama Baru",
        "baru@example.org",
        "Inspektorat",
        "Sekretaris",
    )
    assert User.objects.count() == 3  # two participants + the operator


def test_known_participant_enrolled_in_a_second_cohort(op_client, cohort):
    upload(op_client, cohort, csv_bytes([person(1)]))
    second = CohortFactory(course=cohort.course)
    response = upload(op_client, second, csv_bytes([person(1)]))
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 1, "total": 1, "enrolled": 1, "dry_run": False}
    assert Enrollment.objects.filter(participant__nip=nip_for(1)).count() == 2


# --- invitations --------------------------------------------------------------------------------


def test_invitation_is_enqueued_only_after_commit(op_client, cohort, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(op_client, cohort, csv_bytes([person(1), person(2)]))
    assert response.status_code == 200
    assert len(callbacks) == 1
    assert mail.outbox == []  # nothing sent before the transaction commits
    callbacks[0]()
    assert sorted(m.to[0] for m in mail.outbox) == ["peserta1@kaltimprov.go.id", "peserta2@kaltimprov.go.id"]
    assert "/accounts/invitation/" in mail.outbox[0].body


def test_invitation_is_plain_text_and_does_not_html_escape_names(op_client, cohort, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(op_client, cohort, csv_bytes([person(1, full_name="Nur'aini & Putri <Bappeda>")]))
    assert response.status_code == 200
    (message,) = mail.outbox
    assert message.subject == "Akun Anda di Platform Pelatihan GCIO"
    assert message.body.startswith("Yth. Nur'aini & Putri <Bappeda>,\n")
    assert "Dear Nur'aini & Putri <Bappeda>,\n" in message.body  # the English copy below
    assert not re.search(r"&(amp|#x27|#39|lt|gt|quot);", message.body)


@pytest.mark.parametrize(
    "template",
    [
        "courses/email/invitation.txt",
        "courses/email/invitation_subject.txt",
        "courses/email/password_reset.txt",
        "courses/email/password_reset_subject.txt",
    ],
)
def test_plain_text_email_templates_are_not_autoescaped(template):
    from django.template.loader import render_to_string

    class Someone:
        def get_username(self):
            return "O'Brien & Co"

    tricky = "O'Brien & <Co>"
    context = {
        "profile": ParticipantProfile(full_name=tricky, nip=nip_for(1)),
        "link": "https://gcio.example/a?x=1&y=2",
        "login_url": "https://gcio.example/login?next=/&q='",
        "user": Someone(),
        "protocol": "https",
        "domain": "gcio.example",
        "uid": "MQ",
        "token": "abc-def",
    }
    with translation.override("en"):
        text = render_to_string(template, context)
    assert not re.search(r"&(amp|#x27|#39|lt|gt|quot);", text), text
    if template == "courses/email/invitation.txt":
        assert f"Dear {tricky}," in text and "?x=1&y=2" in text and "/&q='" in text
    if template == "courses/email/password_reset.txt":
        assert "O'Brien & Co" in text


def test_failed_import_enqueues_nothing(op_client, cohort, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        upload(op_client, cohort, csv_bytes([person(1), person(2, nip="1")]))
    assert callbacks == [] and mail.outbox == []


def test_reimport_sends_no_second_invitation(op_client, cohort, django_capture_on_commit_callbacks):
    data = csv_bytes([person(1)])
    with django_capture_on_commit_callbacks(execute=True):
        upload(op_client, cohort, data)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        upload(op_client, cohort, data)
    assert callbacks == []
    assert len(mail.outbox) == 1


def test_a_broker_outage_loses_no_import_and_the_sweep_sends_the_invitations(
    op_client, cohort, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from courses import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patched:
        patched.setattr(tasks.invitations_send_task, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = upload(op_client, cohort, csv_bytes([person(1), person(2)]))
    assert response.status_code == 200 and response.json()["created"] == 2
    assert len(callbacks) == 1 and mail.outbox == []
    assert ParticipantProfile.objects.filter(invited_at__isnull=True).count() == 2

    assert tasks.invitations_sweep_task() == 0  # too fresh: the normal path may still deliver
    ParticipantProfile.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=10))
    assert tasks.invitations_sweep_task() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["peserta1@kaltimprov.go.id", "peserta2@kaltimprov.go.id"]
    assert tasks.invitations_sweep_task() == 0  # sent once, never again


def test_the_invitation_sweep_leaves_alone_who_needs_no_invitation():
    from courses.selectors import invitations_pending

    old = timezone.now() - datetime.timedelta(hours=1)
    pending, has_password, logged_in, invited, ancient = ParticipantProfileFactory.create_batch(5)
    User.objects.exclude(pk=has_password.user_id).update(password=make_password(None))  # as imported
    User.objects.filter(pk=logged_in.user_id).update(last_login=old)
    ParticipantProfile.objects.filter(pk=invited.pk).update(invited_at=old)
    ParticipantProfile.objects.update(created_at=old)
    ParticipantProfile.objects.filter(pk=ancient.pk).update(created_at=old - datetime.timedelta(days=8))
    assert invitations_pending() == [pending.user_id]
    assert {has_password.pk, logged_in.pk, invited.pk, ancient.pk}.isdisjoint(set(invitations_pending()))


def test_invitations_send_is_idempotent():
    from courses.services import invitations_send

    profile = ParticipantProfileFactory()
    assert invitations_send(user_ids=[profile.user_id]) == 1
    assert invitations_send(user_ids=[profile.user_id]) == 0
    assert len(mail.outbox) == 1
    profile.refresh_from_db()
    assert profile.invited_at is not None


def test_invitation_send_failure_releases_the_claim(monkeypatch):
    from courses.services import invitations as services

    profile = ParticipantProfileFactory()

    class Broken:
        def send(self):
            raise ConnectionError("smtp down")

    monkeypatch.setattr(services, "invitation_message", lambda **kwargs: Broken())
    with pytest.raises(ConnectionError):
        services.invitations_send(user_ids=[profile.user_id])
    profile.refresh_from_db()
    assert profile.invited_at is None


def test_invitation_link_sets_the_password_and_nip_logs_in(
    client, op_client, cohort, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(op_client, cohort, csv_bytes([person(7)]))
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/invitation/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.status_code == 200
    assert nip_for(7) in response.content.decode()
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "Kaltim-Berdaulat-2026", "new_password2": "Kaltim-Berdaulat-2026"}
    )
    assert response.status_code == 302
    nip_with_spaces = f"{nip_for(7)[:8]} {nip_for(7)[8:14]} {nip_for(7)[14]} {nip_for(7)[15:]}"
    response = client.post("/accounts/login/", {"username": nip_with_spaces, "password": "Kaltim-Berdaulat-2026"})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == ParticipantProfile.objects.get(nip=nip_for(7)).user_id
    # the link is single-use
    assert "no longer valid" in client.get("/" + path, follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_password_reset_reaches_a_participant_who_never_set_a_password(client):
    profile = ParticipantProfileFactory(user__email="lupa@example.org")
    profile.user.set_unusable_password()
    profile.user.save()
    response = client.post("/accounts/password-reset/", {"email": "LUPA@example.org"})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["lupa@example.org"]]
    assert "/accounts/reset/" in mail.outbox[0].body


# --- cohorts API and the permission matrix ------------------------------------------------------


def test_operator_creates_and_lists_cohorts(op_client, cohort):
    response = op_client.post(
        "/api/v1/cohorts/",
        {"name": "Angkatan I 2026", "course": cohort.course.slug, "starts_on": "2026-02-02", "ends_on": "2026-03-30"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Angkatan I 2026" and body["course"] == cohort.course.slug and body["id"]
    listed = op_client.get("/api/v1/cohorts/").json()
    assert {c["name"] for c in listed} == {cohort.name, "Angkatan I 2026"}


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"starts_on": "2026-04-01", "ends_on": "2026-03-01"}, "ends_on"),
        ({"course": "nope"}, "course"),
        ({"name": " "}, "name"),
    ],
)
def test_invalid_cohorts_are_400_and_not_created(op_client, cohort, payload, field):
    data = {"name": "Baru", "course": cohort.course.slug, "starts_on": "2026-02-02", "ends_on": "2026-03-30", **payload}
    response = op_client.post("/api/v1/cohorts/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not cohort.course.cohorts.filter(name="Baru").exists()


def test_duplicate_cohort_name_is_400(op_client, cohort):
    data = {"name": cohort.name, "course": cohort.course.slug, "starts_on": "2026-02-02", "ends_on": "2026-03-30"}
    response = op_client.post("/api/v1/cohorts/", data, format="json")
    assert response.status_code == 400 and "name" in response.json()


@pytest.mark.parametrize(
    "who, expected", [("anonymous", 401), ("participant", 403), ("operator", 200), ("superuser", 200)]
)
def test_permission_matrix(api_client, cohort, operator, admin_user, who, expected):
    if who == "participant":
        api_client.force_authenticate(ParticipantProfileFactory().user)
    elif who == "operator":
        api_client.force_authenticate(operator)
    elif who == "superuser":
        api_client.force_authenticate(admin_user)
    before = table_counts()
    assert api_client.get("/api/v1/cohorts/").status_code == expected
    created = api_client.post(
        "/api/v1/cohorts/",
        {"name": f"X {who}", "course": cohort.course.slug, "starts_on": "2026-01-01", "ends_on": "2026-01-02"},
        format="json",
    ).status_code
    assert created == (201 if expected == 200 else expected)
    imported = upload(api_client, cohort, csv_bytes([person(1)]))
    assert imported.status_code == expected
    if expected != 200:
        assert table_counts() == before
        assert not cohort.course.cohorts.filter(name=f"X {who}").exists()


def test_unknown_cohort_is_404(op_client):
    assert upload(op_client, type("C", (), {"pk": 999999})(), csv_bytes([person(1)])).status_code == 404


def test_the_operators_group_comes_with_its_permissions():
    group = Group.objects.get(name="operators")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"add_cohort", "change_cohort", "view_cohort", "add_enrollment", "view_participantprofile"} <= codenames
