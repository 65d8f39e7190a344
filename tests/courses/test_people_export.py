"""Files for operators to open in a spreadsheet: the enrolment template and the progress exports."""

import csv
import datetime
import io
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from courses.models import ParticipantProfile
from courses.people_export import Column, people_csv_stream, people_workbook, wita
from courses.services import lesson_complete, quiz_result_record
from tests.courses.enrollment_files import nip_for
from tests.factories import CohortFactory, EnrollmentFactory, ParticipantProfileFactory, course_with_modules

pytestmark = pytest.mark.django_db
TEMPLATE = "/api/v1/enrollment-template/"
WITA = zoneinfo.ZoneInfo("Asia/Makassar")


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def workbook_of(response):
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(body(response))).worksheets[0]


def semicolon_rows(response) -> list[list[str]]:
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff"), text[:20]
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


# The enrolment template


@pytest.mark.parametrize(
    ("language", "header"),
    [
        ("id", ["NIP", "Nama Lengkap", "Surel", "Unit Kerja", "Jabatan"]),
        ("en", ["nip", "full_name", "email", "unit", "position"]),
    ],
)
def test_template_xlsx_has_the_headers_and_a_nip_column_formatted_as_text(api_client, operator, language, header):
    api_client.force_authenticate(operator)
    response = api_client.get(TEMPLATE, {"format": "xlsx"}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = workbook_of(response)
    assert [cell.value for cell in sheet[1]] == header
    assert sheet["A1"].font.bold
    assert sheet["A2"].number_format == "@" and sheet["A500"].number_format == "@"
    assert sheet["B2"].number_format == "General"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 19 and sheet.column_dimensions["B"].width >= 25
    assert all(cell.value is None for row in sheet.iter_rows(min_row=2) for cell in row)


def test_template_csv_is_semicolon_separated_with_a_bom(api_client, operator):
    api_client.force_authenticate(operator)
    response = api_client.get(TEMPLATE, {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = body(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig") == "NIP;Nama Lengkap;Surel;Unit Kerja;Jabatan\r\n"
    assert list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";")) == [
        ["NIP", "Nama Lengkap", "Surel", "Unit Kerja", "Jabatan"]
    ]


@pytest.mark.parametrize("file_format", ["pdf", "json", "xls", "csv\x00"])
def test_template_other_formats_are_400(api_client, operator, file_format):
    api_client.force_authenticate(operator)
    response = api_client.get(TEMPLATE, {"format": file_format})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] in ("invalid_format", "null_character")


@pytest.mark.parametrize("who", ["anonymous", "participant"])
def test_template_is_for_operators_only(api_client, who):
    if who == "participant":
        api_client.force_authenticate(ParticipantProfileFactory().user)
    for file_format in ("xlsx", "csv", "pdf"):
        response = api_client.get(TEMPLATE, {"format": file_format})
        assert response.status_code in (401, 403), (who, file_format, response.status_code)
        assert response["Content-Type"] == "application/json"


def test_a_filled_in_template_imports(api_client, operator):
    api_client.force_authenticate(operator)
    sheet_bytes = body(api_client.get(TEMPLATE, {"format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="id"))
    workbook = load_workbook(io.BytesIO(sheet_bytes))
    sheet = workbook.worksheets[0]
    sheet["A2"], sheet["B2"], sheet["C2"] = nip_for(7), "Dewi Lestari", "dewi@kaltimprov.go.id"
    sheet["D2"], sheet["E2"] = "Diskominfo", "Kepala Dinas"
    out = io.BytesIO()
    workbook.save(out)
    cohort = CohortFactory()
    response = api_client.post(
        f"/api/v1/cohorts/{cohort.pk}/enrollments/import/",
        {"file": SimpleUploadedFile("template-peserta.xlsx", out.getvalue())},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1 and "warnings" not in response.json()
    assert ParticipantProfile.objects.get(nip=nip_for(7)).position == "Kepala Dinas"


def test_the_import_page_links_the_templates_and_explains_the_columns(client, operator):
    cohort = CohortFactory()
    client.force_login(operator)
    html = client.get(f"/operator/cohorts/{cohort.pk}/import/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="{TEMPLATE}?format=xlsx"' in html and f'href="{TEMPLATE}?format=csv"' in html
    assert "Jabatan" in html and "Unit Kerja" in html and "18 digits, required" in html


# The writer


def test_wita_converts_aware_and_naive_datetimes():
    utc = datetime.datetime(2026, 12, 2, 6, 30, tzinfo=datetime.UTC)
    assert wita(utc) == datetime.datetime(2026, 12, 2, 14, 30)
    assert wita(utc).tzinfo is None
    # A naive value is taken in the site's zone (Asia/Makassar), so it is kept as it is.
    assert wita(datetime.datetime(2026, 12, 2, 9, 0)) == datetime.datetime(2026, 12, 2, 9, 0)


def test_the_writer_defuses_formulas_in_both_files():
    columns = [Column("NIP", "nip"), Column("Nama")]
    rows = [["198503302010011002", '=HYPERLINK("http://x")']]
    sheet = load_workbook(people_workbook(columns=columns, rows=rows, title="x/y")).worksheets[0]
    assert (sheet["B2"].value, sheet["B2"].data_type) == ('=HYPERLINK("http://x")', "s")
    text = "".join(people_csv_stream(columns, rows))
    assert text == '\ufeffNIP;Nama\r\n198503302010011002;"\'=HYPERLINK(""http://x"")"\r\n'


# The operator page's progress exports


@pytest.fixture
def course():
    """Two modules of one lesson and a quiz each."""
    return course_with_modules()


@pytest.fixture
def cohort_with_one_done(course):
    cohort = CohortFactory(course=course)
    done = EnrollmentFactory(
        cohort=cohort,
        participant=ParticipantProfileFactory(nip="198503302010011002", full_name="Ani Selesai", unit="Bappeda"),
    )
    EnrollmentFactory(cohort=cohort, participant=ParticipantProfileFactory(full_name="Budi Baru", unit="Dinkes"))
    for module in course.modules.order_by("order"):
        for lesson in module.lessons.all():
            lesson_complete(enrollment=done, lesson=lesson)
        quiz_result_record(enrollment=done, module=module, score_percent=90, passed=True)
    done.refresh_from_db()
    assert done.completed_at is not None
    return cohort, done


@pytest.mark.parametrize(
    ("language", "headers", "completed"),
    [
        ("id", ["NIP", "Nama", "Unit kerja (OPD)", "Progres (%)"], "Selesai"),
        ("en", ["NIP", "Name", "Unit (OPD)", "Progress (%)"], "Completed"),
    ],
)
def test_progress_page_xlsx_in_the_page_language_with_wita_dates(
    client, operator, cohort_with_one_done, language, headers, completed
):
    cohort, done = cohort_with_one_done
    client.force_login(operator)
    response = client.get(
        f"/operator/cohorts/{cohort.pk}/progress/", {"format": "xlsx", "sort": "name"}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    sheet = workbook_of(response)
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == headers, header
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 19 and sheet.column_dimensions["B"].width >= 25
    rows = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    ani = rows["Ani Selesai"]
    assert (ani[0].value, ani[0].data_type, ani[0].number_format) == ("198503302010011002", "s", "@")
    assert ani[4].value == completed
    completed_at = ani[header.index("Selesai pada" if language == "id" else "Completed on")]
    assert isinstance(completed_at.value, datetime.datetime)
    expected = timezone.localtime(done.completed_at, WITA).replace(tzinfo=None, microsecond=0)
    assert completed_at.value.replace(microsecond=0) == expected
    assert "yy" in completed_at.number_format and "hh" in completed_at.number_format
    budi = rows["Budi Baru"]
    assert (
        budi[3].value == 0 and budi[header.index("Selesai pada" if language == "id" else "Completed on")].value is None
    )


def test_progress_page_csv_is_indonesian_semicolons_and_bom(client, operator, cohort_with_one_done):
    cohort, done = cohort_with_one_done
    client.force_login(operator)
    response = client.get(f"/operator/cohorts/{cohort.pk}/progress/", {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = semicolon_rows(response)
    assert rows[0][:5] == ["NIP", "Nama", "Unit kerja (OPD)", "Progres (%)", "Modul 1: status"]
    ani = next(row for row in rows[1:] if row[1] == "Ani Selesai")
    assert ani[0] == "198503302010011002" and ani[4] == "Selesai"
    assert timezone.localtime(done.completed_at, WITA).strftime("%Y-%m-%d %H:%M") in ani


def test_the_api_csv_stays_as_the_contract_says(api_client, operator, cohort_with_one_done):
    cohort, _done = cohort_with_one_done
    api_client.force_authenticate(operator)
    response = api_client.get(f"/api/v1/cohorts/{cohort.pk}/progress/", {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="id")
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeffnip,full_name,unit,progress_percent,module_1_state,module_1_best_score")
    assert ",completed," in text


# The cohort form's date input


def test_the_cohort_form_sends_an_iso_date_to_the_date_input(client, operator, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args: datetime.date(2026, 12, 2))
    client.force_login(operator)
    for language in ("id", "en"):
        html = client.get("/operator/cohorts/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert 'type="date" name="starts_on" value="2026-12-02"' in html, html[html.find("starts_on") - 200 :][:400]
        assert "02-12-2026" not in html


def test_a_participant_cannot_download_exports(client):
    client.force_login(ParticipantProfileFactory().user)
    cohort = CohortFactory()
    assert client.get(f"/operator/cohorts/{cohort.pk}/progress/", {"format": "xlsx"}).status_code == 403
