"""Enrolment import against hostile files: accounts it must not touch, bombs, spoofed names, odd cells."""

import contextlib
import io
import itertools
import struct
import tracemalloc
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Cohort, Enrollment, ParticipantProfile
from tests.courses import test_enrollment_import as base
from tests.courses.enrollment_files import HEADER, csv_bytes, nip_for, person
from tests.factories import ParticipantProfileFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


# The same cohort, operator client, upload and error reading as the import tests.
cohort, op_client = base.cohort, base.op_client
upload, errors_of = base.upload, base.errors_of


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


# --- workbooks built part by part (streamed, so a bomb costs the test little memory) ----------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>{shared}</Types>'
)
SHARED_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/></cellXfs></styleSheet>'
)


def _cell(column: str, line: int, value) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):  # (raw xml attributes, raw inner xml)
        return f'<c r="{column}{line}" {value[0]}>{value[1]}</c>'
    text = str(value).replace("&", "&amp;").replace("<", "&lt;")
    return f'<c r="{column}{line}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_rows(rows, *, hidden=()) -> list[str]:
    """``<row>`` elements for rows of values (``None`` empty, a tuple raw XML), from line 1."""
    out = []
    for line, values in enumerate(rows, start=1):
        cells = "".join(_cell(chr(65 + i), line, v) for i, v in enumerate(values))
        attribute = ' hidden="1"' if line in hidden else ""
        out.append(f'<row r="{line}"{attribute}>{cells}</row>')
    return out


def people_rows(people) -> list[list]:
    return [HEADER] + [[p[c] for c in HEADER] for p in people]


def workbook(
    sheet,
    *,
    shared=None,
    sheet_state="visible",
    sheet_target="worksheets/sheet1.xml",
    extra_members=(),
    prolog="",
) -> bytes:
    """An XLSX file whose first sheet's ``sheetData`` is the strings (or chunks) of ``sheet``.

    ``shared``: the chunks of ``xl/sharedStrings.xml``'s content (between its root tags), or None.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(shared=SHARED_TYPE if shared is not None else ""))
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Target="xl/workbook.xml" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
            "</Relationships>",
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets>'
            f'<sheet name="Peserta" sheetId="1" state="{sheet_state}" r:id="rId1"/></sheets></workbook>',
        )
        relationships = (
            f'<Relationship Id="rId1" Target="{sheet_target}" Type="{DOC}/worksheet"/>'
            f'<Relationship Id="rId2" Target="styles.xml" Type="{DOC}/styles"/>'
        )
        if shared is not None:
            relationships += f'<Relationship Id="rId3" Target="sharedStrings.xml" Type="{DOC}/sharedStrings"/>'
        archive.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{RELS}">{relationships}</Relationships>')
        archive.writestr("xl/styles.xml", STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            part.write(f'{prolog}<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            for chunk in sheet:
                part.write(chunk.encode() if isinstance(chunk, str) else chunk)
            part.write(b"</sheetData></worksheet>")
        if shared is not None:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                part.write(f'<sst xmlns="{MAIN}">'.encode())
                for chunk in shared:
                    part.write(chunk.encode() if isinstance(chunk, str) else chunk)
                part.write(b"</sst>")
        for name, content in extra_members:
            archive.writestr(name, content)
    return out.getvalue()


def limit_error(response) -> str:
    assert errors_of(response)[0][1] is None, response.json()
    return response.json()["errors"][0]["message"]


@contextlib.contextmanager
def bounded_memory(limit_mb: int):
    """Fails when the block allocates more than ``limit_mb`` at its peak (Python allocations)."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit_mb * 2**20, f"peak {peak / 2**20:.0f} MB"


def test_a_workbook_built_here_is_read_like_one_from_excel(op_client, cohort):
    data = workbook(sheet_rows(people_rows([person(1), person(2)])))
    response = upload(op_client, cohort, data, name="peserta.xlsx")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2


# --- decompression bombs and other oversized workbooks -----------------------------------------


def test_two_million_empty_rows_are_refused_quickly(op_client, cohort, nothing_written):
    header = sheet_rows([HEADER])
    data = workbook(itertools.chain(header, itertools.repeat("<row/>" * 1000, 2000)))
    assert len(data) < 200_000
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, name="bom.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert limit_error(response) == (
        "The sheet has more than 41000 rows, most of them empty. Delete the empty rows and try again."
    )


def test_rows_of_empty_cells_in_the_last_column_are_refused_quickly(op_client, cohort, nothing_written, settings):
    # One formatted empty cell at XFD per row: a reader that pads rows to their last cell would build
    # 16,384 values a row. (Smaller bounds than the defaults keep the test fast; same code path.)
    settings.COURSES_IMPORT_MAX_ROWS = 1000
    rows = (f'<row r="{n}"><c r="XFD{n}" s="1"/></row>' for n in range(2, 10_000))
    data = workbook(itertools.chain(sheet_rows([HEADER]), rows))
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, name="bom.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "more than 3000 rows" in limit_error(response)


def test_millions_of_empty_cells_are_refused_quickly(op_client, cohort, nothing_written, settings):
    settings.COURSES_IMPORT_MAX_CELLS = 20_000
    # Cells without a reference follow on from the previous one: 200 formatted empty cells a row.
    rows = (f'<row r="{n}">' + '<c s="1"/>' * 200 + "</row>" for n in range(2, 500))
    data = workbook(itertools.chain(sheet_rows([HEADER]), rows))
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, name="bom.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert limit_error(response) == (
        "The sheet has more than 20000 cells, most of them empty. Delete the unused rows and columns."
    )


def test_a_value_beyond_the_last_column_read_is_refused(op_client, cohort, nothing_written):
    rows = sheet_rows(people_rows([person(1)]))
    rows[1] = rows[1].replace("</row>", '<c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>')
    nothing_written()
    response = upload(op_client, cohort, workbook(rows), name="lebar.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(2, None)]
    assert response.json()["errors"][0]["message"] == (
        "Line 2 has a value in column XFD; the import reads at most 50 columns. "
        "Delete the columns after the last one it needs."
    )


def test_an_empty_cell_at_the_far_corner_of_the_grid_is_ignored(op_client, cohort):
    rows = sheet_rows(people_rows([person(1)])) + ['<row r="1048576"><c r="XFD1048576" s="1"/></row>']
    response = upload(op_client, cohort, workbook(rows), name="peserta.xlsx")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1


@pytest.mark.parametrize("reference", ["XFE2", "AAAA2", "A0", "A99999999", "2A", "B1"])
def test_a_cell_outside_excels_grid_or_its_row_is_damaged(op_client, cohort, nothing_written, reference):
    rows = sheet_rows(people_rows([person(1)]))
    rows[1] = rows[1].replace("</row>", f'<c r="{reference}" t="inlineStr"><is><t>x</t></is></c></row>')
    nothing_written()
    response = upload(op_client, cohort, workbook(rows), name="rusak.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "damaged" in limit_error(response)


def _gigantic_string(megabytes: int):
    yield "<si><t>"
    chunk = "a" * 2**20
    for _ in range(megabytes):
        yield chunk
    yield "</t></si>"


def _name_from_shared_string(people):
    rows = people_rows(people)
    rows[1][1] = ('t="s"', "<v>0</v>")
    return sheet_rows(rows)


def test_a_shared_string_of_hundreds_of_megabytes_is_refused_quickly(op_client, cohort, nothing_written):
    data = workbook(_name_from_shared_string([person(1)]), shared=_gigantic_string(300))
    assert len(data) < 2 * 2**20
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, name="bom.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert limit_error(response) == (
        "The workbook unpacks to more than 50.0\xa0MB, far more than a list of participants needs. Copy the "
        "participants into a new workbook (or save as CSV) and try again."
    )


def _with_stated_size(data: bytes, member: str, size: int) -> bytes:
    """``data`` with the uncompressed size its zip headers state for ``member`` replaced (a lie)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    patched = bytearray(data)
    # The local header and the central directory both state it: at a fixed offset, or in the zip64
    # extra field when the fixed one says 0xFFFFFFFF.
    name_length, extra_length = struct.unpack_from("<HH", patched, info.header_offset + 26)
    struct.pack_into("<I", patched, info.header_offset + 22, min(size, 0xFFFFFFFF))
    _patch_zip64(patched, info.header_offset + 30 + name_length, extra_length, size)
    for offset in _central_offsets(data, member):
        struct.pack_into("<I", patched, offset + 24, min(size, 0xFFFFFFFF))
        _patch_zip64(patched, offset + 46 + len(member), struct.unpack_from("<H", patched, offset + 30)[0], size)
    return bytes(patched)


def _central_offsets(data: bytes, member: str):
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46 : start + 46 + name_length].decode() == member:
            yield start
        start += 4


def _patch_zip64(patched: bytearray, start: int, length: int, size: int) -> None:
    position = start
    while position < start + length:
        tag, field_length = struct.unpack_from("<HH", patched, position)
        if tag == 1:  # zip64: uncompressed size first
            struct.pack_into("<Q", patched, position + 4, size)
        position += 4 + field_length


@pytest.mark.parametrize(
    "stated_mb, words", [(0.001, "damaged"), (40, "single text")], ids=["tiny", "just-within-the-budget"]
)
def test_a_shared_string_whose_zip_headers_lie_about_its_size_is_refused(
    op_client, cohort, nothing_written, stated_mb, words
):
    data = workbook(_name_from_shared_string([person(1)]), shared=_gigantic_string(300))
    data = _with_stated_size(data, "xl/sharedStrings.xml", int(stated_mb * 2**20))
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/sharedStrings.xml").file_size == int(stated_mb * 2**20)
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, name="bom.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert words in limit_error(response)


def test_the_unpacked_budget_counts_every_part_read(op_client, cohort, nothing_written, settings):
    settings.COURSES_IMPORT_MAX_UNPACKED_BYTES = 3 * 2**20
    # Each part is within the budget; together they are not.
    rows = _name_from_shared_string([person(1)]) + [f"<!-- {'x' * 200_000} -->"] * 12
    data = workbook(rows, shared=_long_string(900_000))
    nothing_written()
    response = upload(op_client, cohort, data, name="besar.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "unpacks to more than 3.0\xa0MB" in limit_error(response)


def _long_string(length: int):
    yield "<si><t>"
    for _ in range(length // 1000):
        yield "a" * 1000
    yield "</t></si>"


def test_a_cell_longer_than_the_bound_is_a_too_long_error_at_its_line(op_client, cohort, nothing_written):
    data = workbook(_name_from_shared_string([person(1), person(2)]), shared=_long_string(500_000))
    nothing_written()
    response = upload(op_client, cohort, data, name="panjang.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(2, "full_name")]
    assert response.json()["errors"][0]["message"] == "Too long: 500000 characters; at most 150 are allowed."


def test_a_text_no_spreadsheet_could_hold_is_refused_quickly(op_client, cohort, nothing_written):
    data = workbook(_name_from_shared_string([person(1)]), shared=_gigantic_string(20))
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, name="panjang.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert limit_error(response) == (
        "The workbook holds a single text or tag of more than 1.0\xa0MB, which no spreadsheet writes. Copy the "
        "participants into a new workbook (or save as CSV) and try again."
    )


def test_a_tag_with_a_million_attributes_is_refused_quickly(op_client, cohort, nothing_written):
    rows = sheet_rows(people_rows([person(1)]))
    attributes = (f' a{n}=""' for n in range(1_000_000))
    data = workbook(itertools.chain(rows, ["<row "], attributes, [" />"]))
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, name="atribut.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "single text or tag of more than 1.0\xa0MB" in limit_error(response)


def test_millions_of_unknown_elements_are_refused_quickly(op_client, cohort, nothing_written, settings):
    settings.COURSES_IMPORT_MAX_CELLS = 10_000  # 60,000 units: 20,000 elements
    rows = sheet_rows(people_rows([person(1)]))
    data = workbook(itertools.chain(rows, itertools.repeat("<x/>" * 1000, 5000)))
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, name="unsur.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert limit_error(response) == (
        "The workbook's content is far larger (in XML elements and attributes) than a list of participants "
        "needs. Copy the participants into a new workbook (or save as CSV) and try again."
    )


def test_thousands_of_distinct_element_names_are_damaged(op_client, cohort, nothing_written):
    rows = sheet_rows(people_rows([person(1)]))
    data = workbook(itertools.chain(rows, (f"<x{n} a{n}=''/>" for n in range(200_000))))
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, name="nama.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "damaged" in limit_error(response)


def test_an_inline_text_longer_than_the_bound_is_a_too_long_error(op_client, cohort, nothing_written):
    rows = people_rows([person(1)])
    rows[1][3] = "u" * 5000
    nothing_written()
    response = upload(op_client, cohort, workbook(sheet_rows(rows)), name="p.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(2, "unit")]
    assert response.json()["errors"][0]["message"] == "Too long: 5000 characters; at most 200 are allowed."


def test_too_many_different_texts_are_refused(op_client, cohort, nothing_written, settings):
    settings.COURSES_IMPORT_MAX_CELLS = 1000
    data = workbook(_name_from_shared_string([person(1)]), shared=itertools.repeat("<si/>", 1001))
    nothing_written()
    response = upload(op_client, cohort, data, name="p.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "more than 1000 different texts" in limit_error(response)


def test_a_zip_of_thousands_of_parts_is_refused(op_client, cohort, nothing_written):
    extra = [(f"xl/media/image{n}.png", b"") for n in range(2000)]
    data = workbook(sheet_rows(people_rows([person(1)])), extra_members=extra)
    nothing_written()
    response = upload(op_client, cohort, data, name="p.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert limit_error(response) == (
        "The workbook holds 2006 parts; at most 1000 are expected. Save it again as a plain workbook."
    )


@pytest.mark.parametrize(
    "prolog",
    [
        # The "billion laughs": entities that expand to ten to the ninth "lol"s.
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{n + 1} "{("&lol" + (str(n) if n else "") + ";") * 10}">' for n in range(9))
        + "]>",
        # An external entity: a file of the server's.
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
    ],
    ids=["entity-expansion", "external-entity"],
)
def test_a_sheet_with_a_document_type_declaration_is_refused(op_client, cohort, nothing_written, prolog):
    rows = people_rows([person(1)])
    rows[1][3] = ('t="inlineStr"', "<is><t>&lol9;</t></is>" if "lolz" in prolog else "<is><t>&secret;</t></is>")
    nothing_written()
    response = upload(op_client, cohort, workbook(sheet_rows(rows), prolog=prolog), name="p.xlsx")
    assert "rusak" in limit_error(response)


@pytest.mark.parametrize("target", ["../../../etc/passwd", "/etc/passwd", "worksheets/tidak-ada.xml"])
def test_a_sheet_outside_the_zip_is_damaged(op_client, cohort, nothing_written, target):
    data = workbook(sheet_rows(people_rows([person(1)])), sheet_target=target)
    nothing_written()
    response = upload(op_client, cohort, data, name="p.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "damaged" in limit_error(response)


def test_elements_nested_thousands_deep_are_damaged(op_client, cohort, nothing_written):
    rows = sheet_rows(people_rows([person(1)]))
    data = workbook(itertools.chain(rows, ["<a>"] * 100_000, ["</a>"] * 100_000))
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, name="p.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "damaged" in limit_error(response)


def test_two_parts_of_one_name_are_damaged(op_client, cohort, nothing_written):
    # Excel could show one copy of the sheet and the import read the other.
    data = workbook(sheet_rows(people_rows([person(1)])))
    with zipfile.ZipFile(io.BytesIO(data)) as source, pytest.warns(UserWarning, match="Duplicate name"):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for item in source.infolist():
                target.writestr(item, source.read(item))
            target.writestr("xl/worksheets/sheet1.xml", source.read("xl/worksheets/sheet1.xml"))
    nothing_written()
    response = upload(op_client, cohort, out.getvalue(), name="p.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "damaged" in limit_error(response)


def test_rows_out_of_order_are_damaged(op_client, cohort, nothing_written):
    # Two rows numbered 2: a spreadsheet shows one of them, so which one the import reads is not clear.
    rows = sheet_rows(people_rows([person(1), person(2)]))
    rows[2] = rows[2].replace('r="3"', 'r="2"').replace('3"', '2"')
    nothing_written()
    response = upload(op_client, cohort, workbook(rows), name="p.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "damaged" in limit_error(response)


def test_twenty_thousand_and_one_rows_are_refused_before_any_query(op_client, cohort, nothing_written):
    rows = sheet_rows(people_rows([person(n) for n in range(20_001)]))
    nothing_written()
    with CaptureQueriesContext(connection) as captured:
        response = upload(op_client, cohort, workbook(rows), name="p.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert limit_error(response) == "The file has more than 20000 rows; split it into smaller files."
    assert not [q for q in captured if "participant" in q["sql"]]


# --- CSV: quotation marks and long cells ---------------------------------------------------------


def test_an_unclosed_quote_is_reported_at_its_line_not_as_an_empty_email(op_client, cohort, nothing_written):
    # The open quote swallows line 4 into line 3's name; the csv module then sees no email on line 3.
    data = csv_bytes([person(1)]) + b'198001012005011001,"Tanpa Tutup,a@b.id\r\n' + csv_bytes([person(3)])[38:]
    nothing_written()
    response = upload(op_client, cohort, data, HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(3, None)]
    message = response.json()["errors"][0]["message"]
    assert message.startswith(
        'The CSV file cannot be read from line 3 on: a quotation mark (") opened in the column “full_name” on '
        "that line is never closed"
    )


def test_an_unclosed_quote_after_a_quoted_line_break_counts_lines_as_rows(op_client, cohort, nothing_written):
    # Line 2's unit holds a line break inside quotes (one row, two text lines): the open quote is on row 3.
    data = (
        csv_bytes([person(1, unit="Dinas\nKominfo")])
        + b'198001012005011001;x;a@b.id;"Dinas\r\n'.replace(b";", b",")
        + csv_bytes([person(3)])[38:]
    )
    nothing_written()
    response = upload(op_client, cohort, data, HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(3, None)]
    assert "opened in the column “unit”" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_a_cell_of_megabytes_is_too_long_not_an_unclosed_quote(op_client, cohort, nothing_written, quoted):
    unit = "x" * 4_000_000 + ("," if quoted else "")  # a comma makes the writer quote the cell
    data = csv_bytes([person(1), person(2, unit=unit), person(3)])
    nothing_written()
    response = upload(op_client, cohort, data, HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(3, "unit")]
    message = response.json()["errors"][0]["message"]
    assert message == f"Too long: {len(unit) + (2 if quoted else 0)} characters; at most 200 are allowed."


@pytest.mark.parametrize("blank", [b"\n", b"\r\n", b";;;;\r\n"], ids=["LF", "CRLF", "empty-fields"])
def test_millions_of_blank_lines_are_refused_quickly(op_client, cohort, nothing_written, blank):
    data = csv_bytes([person(1)], delimiter=";") + blank * ((5 * 2**20 - 1000) // len(blank))
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, HTTP_ACCEPT_LANGUAGE="en")
    assert limit_error(response) == (
        "The file has more than 41000 lines, most of them empty. Delete the empty lines and try again."
    )


def test_blank_lines_below_the_bound_are_skipped_as_before(op_client, cohort):
    data = csv_bytes([person(1)]) + b"\r\n" * 30_000 + csv_bytes([person(2)]).split(b"\r\n", 1)[1]
    response = upload(op_client, cohort, data)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2


@pytest.mark.parametrize(
    "tail",
    [b'"",' * 1_500_000 + b'"terbuka', b'1,"' + b'""' * 2_000_000, b'1,"' + b'a""' * 1_500_000],
    ids=["million-quoted-fields-then-open", "open-quote-of-escaped-quotes", "open-quote-of-text-and-quotes"],
)
def test_quotation_mark_puzzles_are_answered_quickly(op_client, cohort, nothing_written, tail):
    data = csv_bytes([person(1)]) + tail
    nothing_written()
    with bounded_memory(100):
        response = upload(op_client, cohort, data, HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(3, None)]


def test_quotes_that_close_are_read_as_before(op_client, cohort):
    rows = [person(1, full_name='Budi "Bud" Santoso'), person(2, unit="Dinas, Bidang TIK"), person(3)]
    response = upload(op_client, cohort, csv_bytes(rows))
    assert response.status_code == 200, response.content
    assert ParticipantProfile.objects.get(nip=nip_for(1)).full_name == 'Budi "Bud" Santoso'
    assert ParticipantProfile.objects.get(nip=nip_for(2)).unit == "Dinas, Bidang TIK"


def test_mixed_line_endings_keep_the_line_numbers(op_client, cohort, nothing_written):
    lines = csv_bytes([person(1), person(2), person(3, email="rusak")]).split(b"\r\n")
    data = lines[0] + b"\n" + lines[1] + b"\r" + lines[2] + b"\r\n" + lines[3] + b"\n"
    nothing_written()
    assert errors_of(upload(op_client, cohort, data)) == [(4, "email")]


def test_a_csv_value_beyond_the_last_column_read_is_refused(op_client, cohort, nothing_written):
    data = csv_bytes([person(1)]).replace(b"Kepala Bidang\r\n", b"Kepala Bidang" + b"," * 50 + b"x\r\n")
    nothing_written()
    response = upload(op_client, cohort, data, HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(2, None)]
    assert response.json()["errors"][0]["message"] == (
        "Line 2 has a value in column BC; the import reads at most 50 columns. "
        "Delete the columns after the last one it needs."
    )


def test_trailing_empty_csv_fields_are_fine(op_client, cohort):
    data = csv_bytes([person(1)]).replace(b"\r\n", b"," * 80 + b"\r\n")
    response = upload(op_client, cohort, data)
    assert response.status_code == 200, response.content


def test_nul_bytes_are_refused_as_binary(op_client, cohort, nothing_written):
    data = csv_bytes([person(1)]).replace(b"Peserta", b"Pes\x00erta")
    nothing_written()
    response = upload(op_client, cohort, data, HTTP_ACCEPT_LANGUAGE="en")
    assert "binary data" in limit_error(response)


@pytest.mark.parametrize(
    "nip", ["１９８００１０２２００５０１１０００", "١٩٨٠٠١٠٢٢٠٠٥٠١١٠٠٠", "19800102\u200b2005011000"]
)
def test_a_nip_of_look_alike_digits_is_refused(op_client, cohort, nothing_written, nip):
    nothing_written()
    assert errors_of(upload(op_client, cohort, csv_bytes([person(1, nip=nip)]))) == [(2, "nip")]


# --- XLSX: dates, hidden rows, a hidden sheet ------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [('s="1"', "<v>43831</v>"), ('s="2"', "<v>43831</v>"), ('t="d"', "<v>2020-01-01T00:00:00</v>")],
    ids=["custom-date-format", "built-in-date-format", "iso-date-cell"],
)
def test_a_date_in_a_text_column_is_an_error_not_a_timestamp(op_client, cohort, nothing_written, cell):
    rows = people_rows([person(1), person(2)])
    rows[2][3] = cell
    nothing_written()
    response = upload(op_client, cohort, workbook(sheet_rows(rows)), name="p.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(3, "unit")]
    assert response.json()["errors"][0]["message"] == (
        "This cell holds a date or time (2020-01-01 00:00:00), not text. Format the column as Text and type the "
        "value again."
    )


def test_a_date_in_the_nip_column_is_an_error(op_client, cohort, nothing_written):
    rows = people_rows([person(1)])
    rows[1][0] = ('s="2"', "<v>43831</v>")
    nothing_written()
    response = upload(op_client, cohort, workbook(sheet_rows(rows)), name="p.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(2, "nip")]
    assert "holds a date or time" in response.json()["errors"][0]["message"]


def test_a_plain_number_in_a_text_column_is_still_read(op_client, cohort):
    rows = people_rows([person(1)])
    rows[1][3] = ('t="n"', "<v>123</v>")
    response = upload(op_client, cohort, workbook(sheet_rows(rows)), name="p.xlsx")
    assert response.status_code == 200, response.content
    assert ParticipantProfile.objects.get(nip=nip_for(1)).unit == "123"


@pytest.mark.parametrize("query", ["", "?dry_run=1"], ids=["import", "dry-run"])
def test_hidden_rows_are_imported_and_reported(op_client, cohort, query):
    data = workbook(sheet_rows(people_rows([person(n) for n in range(4)]), hidden={3, 5}))
    response = upload(op_client, cohort, data, name="p.xlsx", query=query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["hidden_rows"]) == (4, [3, 5])
    assert body["warnings"] == [
        {
            "line": None,
            "column": None,
            "message": "2 rows are hidden in the workbook (hidden rows or a hidden sheet), so they are easily "
            "missed when the file is checked; they are imported like the others. Lines: 3, 5.",
        }
    ]


def test_a_row_of_height_zero_counts_as_hidden(op_client, cohort):
    rows = sheet_rows(people_rows([person(1), person(2)]))
    rows[2] = rows[2].replace('<row r="3">', '<row r="3" ht="0" customHeight="1">')
    response = upload(op_client, cohort, workbook(rows), name="p.xlsx")
    assert response.status_code == 200, response.content
    assert response.json()["hidden_rows"] == [3]


def test_a_hidden_first_sheet_reports_every_row(op_client, cohort):
    data = workbook(sheet_rows(people_rows([person(1), person(2)])), sheet_state="hidden")
    response = upload(op_client, cohort, data, name="p.xlsx")
    assert response.status_code == 200, response.content
    assert response.json()["hidden_rows"] == [2, 3]


def test_a_file_without_hidden_rows_has_no_warnings(op_client, cohort):
    response = upload(op_client, cohort, workbook(sheet_rows(people_rows([person(1)]))), name="p.xlsx")
    assert response.status_code == 200, response.content
    assert "hidden_rows" not in response.json() and "warnings" not in response.json()


def test_the_operator_page_shows_hidden_rows_before_and_after_confirming(client, cohort, operator):
    client.force_login(operator)
    data = workbook(sheet_rows(people_rows([person(1), person(2)]), hidden={3}))
    url = f"/operator/cohorts/{cohort.pk}/import/"
    response = client.post(url, {"file": SimpleUploadedFile("p.xlsx", data)}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    warning = "1 row is hidden in the workbook (a hidden row or a hidden sheet)"
    assert warning in response.content.decode()
    assert ParticipantProfile.objects.count() == 0
    confirmed = client.post(url, {"token": response.context["token"]}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert warning in confirmed.content.decode()
    assert ParticipantProfile.objects.count() == 2


def test_the_schema_describes_the_new_result_fields(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    result = schema["components"]["schemas"]["EnrollmentImportResult"]
    assert result["properties"]["hidden_rows"]["items"] == {"type": "integer"}
    assert result["properties"]["warnings"]["items"] == {"$ref": "#/components/schemas/FileError"}
    assert "hidden_rows" not in result["required"] and "warnings" not in result["required"]


# --- names that would print reversed or padded on a certificate ------------------------------------

INVISIBLE = {
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
    "\u200b": "ZERO WIDTH SPACE",
    "\u200d": "ZERO WIDTH JOINER",
    "\u200f": "RIGHT-TO-LEFT MARK",
    "\ufeff": "ZERO WIDTH NO-BREAK SPACE",
    "\u2060": "WORD JOINER",
    "\u00ad": "SOFT HYPHEN",
    "\u3164": "HANGUL FILLER",
}


@pytest.mark.parametrize("char", list(INVISIBLE), ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
@pytest.mark.parametrize("column", ["full_name", "unit", "position"])
def test_invisible_characters_in_names_are_refused(op_client, cohort, nothing_written, char, column):
    rows = [person(1), person(2, **{column: f"Siti {char}Rahmawati"})]
    nothing_written()
    response = upload(op_client, cohort, csv_bytes(rows), HTTP_ACCEPT_LANGUAGE="en")
    assert errors_of(response) == [(3, column)]
    assert response.json()["errors"][0]["message"] == (
        f"Contains an invisible character (U+{ord(char):04X} {INVISIBLE[char]}) that changes how the text is "
        "shown, e.g. reversed or padded on a certificate. Type the value again."
    )


def test_invisible_characters_are_refused_in_a_workbook_too(op_client, cohort, nothing_written):
    rows = people_rows([person(1)])
    rows[1][1] = "\u202eitiS"
    nothing_written()
    response = upload(op_client, cohort, workbook(sheet_rows(rows)), name="p.xlsx")
    assert errors_of(response) == [(2, "full_name")]


def test_a_byte_order_mark_starting_the_file_is_still_an_encoding_mark(op_client, cohort):
    response = upload(op_client, cohort, b"\xef\xbb\xbf" + csv_bytes([person(1)]))
    assert response.status_code == 200, response.content
    assert ParticipantProfile.objects.get(nip=nip_for(1)).full_name == "Peserta Nomor 1"


def test_a_byte_order_mark_inside_the_file_is_refused(op_client, cohort, nothing_written):
    data = csv_bytes([person(1)]) + b"\xef\xbb\xbf" + csv_bytes([person(2)]).split(b"\r\n", 1)[1]
    nothing_written()
    assert errors_of(upload(op_client, cohort, data)) == [(3, "nip")]


def test_an_email_with_an_invisible_character_is_refused(op_client, cohort, nothing_written):
    nothing_written()
    response = upload(op_client, cohort, csv_bytes([person(1, email="kepala@kaltim\u200bprov.go.id")]))
    assert errors_of(response) == [(2, "email")]


def test_a_full_width_domain_is_the_same_mailbox_as_the_staff_address(op_client, cohort, nothing_written):
    # Mail servers see "ｋａｌｔｉｍprov.go.id" as kaltimprov.go.id: the address is the staff member's.
    UserFactory(username="kabid", email="kepala.bidang@kaltimprov.go.id", is_staff=True)
    nothing_written()
    response = upload(op_client, cohort, csv_bytes([person(1, email="kepala.bidang@ｋａｌｔｉｍprov.go.id")]))
    assert errors_of(response) == [(2, "email")]


def test_an_internationalised_domain_is_stored_as_mail_servers_see_it(op_client, cohort):
    response = upload(op_client, cohort, csv_bytes([person(1, email="Siti@Bücher.example")]))
    assert response.status_code == 200, response.content
    assert User.objects.get(username=nip_for(1)).email == "siti@xn--bcher-kva.example"
    again = upload(op_client, cohort, csv_bytes([person(1, email="siti@bücher.example")]))
    assert again.json()["unchanged"] == 1


def test_the_admin_refuses_an_invisible_character_in_a_profile(client, admin_user):
    profile = ParticipantProfileFactory(full_name="Siti Rahmawati")
    client.force_login(admin_user)
    response = client.post(
        f"/admin/courses/participantprofile/{profile.pk}/change/",
        {
            "user": profile.user_id,
            "nip": profile.nip,
            "full_name": "Siti \u202eitawahmaR",
            "unit": profile.unit,
            "position": profile.position,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Contains an invisible character (U+202E RIGHT-TO-LEFT OVERRIDE)" in response.content.decode()
    profile.refresh_from_db()
    assert profile.full_name == "Siti Rahmawati"


def test_a_cohort_name_with_an_invisible_character_is_refused(op_client, cohort):
    response = op_client.post(
        "/api/v1/cohorts/",
        {"name": "Angkatan \u202eI", "course": cohort.course.slug, "starts_on": "2026-02-02", "ends_on": "2026-03-30"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "U+202E" in response.json()["name"][0]
    assert list(Cohort.objects.all()) == [cohort]


def test_the_cohort_page_refuses_an_invisible_character_too(client, cohort, operator):
    client.force_login(operator)
    response = client.post(
        "/operator/cohorts/",
        {"course": cohort.course.pk, "name": "Angkatan\u200b II", "starts_on": "2026-05-04", "ends_on": "2026-06-26"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "U+200B ZERO WIDTH SPACE" in response.content.decode()
    assert list(Cohort.objects.all()) == [cohort]


def test_the_export_defuses_formulas_by_the_import_s_rule():
    from courses import csv_export, enrollment_file

    assert csv_export.FORMULA_START is enrollment_file.FORMULA_START
