"""Enrolment files with the headers Indonesian offices use, and headers the import does not know."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from courses.enrollment_file import header_column, read_enrollment_file
from courses.models import ParticipantProfile
from tests.courses.enrollment_files import nip_for
from tests.factories import CohortFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def op_client(api_client, operator):
    api_client.force_authenticate(operator)
    return api_client


def _upload(client, cohort, data: bytes, name: str, query: str = ""):
    return client.post(
        f"/api/v1/cohorts/{cohort.pk}/enrollments/import/{query}",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )


def _indonesian_csv(header: str = "NIP;Nama Lengkap;Email;Unit Kerja;Jabatan") -> bytes:
    lines = [
        header,
        f"{nip_for(1)};Siti Rahmawati;siti@kaltimprov.go.id;Dinas Komunikasi dan Informatika;Kepala Dinas",
        f"{nip_for(2)};Budi Santoso;budi@kaltimprov.go.id;Bappeda;Sekretaris",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("nama", "full_name"),
        ("Nama Lengkap", "full_name"),
        ("  NAMA   LENGKAP ", "full_name"),
        ("Full Name", "full_name"),
        ("full_name", "full_name"),
        ("Surel", "email"),
        ("POS-EL", "email"),
        ("E-mail", "email"),
        ("Email", "email"),
        ("Unit Kerja", "unit"),
        ("OPD", "unit"),
        ("Perangkat  Daerah", "unit"),
        ("Jabatan", "position"),
        ("\ufeffNIP", "nip"),
        ("No.", None),
        ("Golongan", None),
    ],
)
def test_header_names(header, column):
    assert header_column(header) == column


def test_semicolon_csv_with_indonesian_headers_stores_unit_and_position(op_client):
    cohort = CohortFactory()
    response = _upload(op_client, cohort, _indonesian_csv(), "peserta.csv")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    assert "warnings" not in response.json()
    siti = ParticipantProfile.objects.get(nip=nip_for(1))
    assert (siti.full_name, siti.unit, siti.position, siti.user.email) == (
        "Siti Rahmawati",
        "Dinas Komunikasi dan Informatika",
        "Kepala Dinas",
        "siti@kaltimprov.go.id",
    )
    assert ParticipantProfile.objects.get(nip=nip_for(2)).position == "Sekretaris"


def test_xlsx_with_indonesian_headers(op_client):
    cohort = CohortFactory()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Jabatan", "OPD", "Pos-el", "Nama", "NIP"])
    sheet.append(["Kepala Bidang", "Diskominfo", "rina@kaltimprov.go.id", "Rina Wati", nip_for(3)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = _upload(op_client, cohort, buffer.getvalue(), "peserta.xlsx")
    assert response.status_code == 200, response.content
    rina = ParticipantProfile.objects.get(nip=nip_for(3))
    assert (rina.full_name, rina.unit, rina.position) == ("Rina Wati", "Diskominfo", "Kepala Bidang")


def test_unknown_header_is_reported_not_dropped(op_client):
    cohort = CohortFactory()
    data = (
        "No;NIP;Nama Lengkap;Surel;Golongan\r\n"
        f"1;{nip_for(1)};Siti Rahmawati;siti@kaltimprov.go.id;IV/a\r\n"
        f"2;{nip_for(2)};Budi Santoso;budi@kaltimprov.go.id;III/d\r\n"
    ).encode()
    rows = read_enrollment_file(io.BytesIO(data))
    reported = " ".join(w.message for w in rows.warnings)
    assert "“No”" in reported and "“Golongan”" in reported
    assert all(w.line == 1 for w in rows.warnings)

    response = _upload(op_client, cohort, data, "peserta.csv", "?dry_run=1")
    assert response.status_code == 200, response.content
    messages = [w["message"] for w in response.json()["warnings"]]
    assert any("“Golongan”" in m for m in messages), messages


def test_two_headers_for_one_column_are_an_error(op_client):
    cohort = CohortFactory()
    response = _upload(op_client, cohort, _indonesian_csv("NIP;Nama;Nama Lengkap;Email;Jabatan"), "peserta.csv")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(1, "full_name")]
    assert "“Nama”" in errors[0]["message"] and "“Nama Lengkap”" in errors[0]["message"]


def test_unknown_header_shown_on_the_import_page(client, operator):
    cohort = CohortFactory()
    client.force_login(operator)
    data = _indonesian_csv("NIP;Nama Lengkap;Email;Unit Kerja;Jabatan;Keterangan")
    response = client.post(f"/operator/cohorts/{cohort.pk}/import/", {"file": SimpleUploadedFile("peserta.csv", data)})
    assert response.status_code == 200
    assert "Keterangan" in response.content.decode()
