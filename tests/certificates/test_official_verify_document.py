"""POST /api/v1/verify/document/ and the upload box of /verify/: genuine, modified, unknown, refused."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from certificates.codes import code_display
from certificates.pdf import CertificateContent
from certificates.sealed_pdf import render_sealed_certificate
from certificates.services import certificate_revoke
from tests.certificates.official import demo_sealer, stored_bytes
from tests.certificates.test_sealing import encrypted_pdf, minimal_pdf, zip_bomb

pytestmark = pytest.mark.django_db
URL = "/api/v1/verify/document/"


@pytest.fixture(autouse=True)
def _fast_bounds(settings):
    settings.CERTIFICATES_INSPECT_TIMEOUT_SECONDS = 5
    settings.CERTIFICATES_INSPECT_MEMORY_MB = 256


def upload(client, data: bytes, name="sertifikat.pdf", url=URL):
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type="application/pdf")})


def test_the_very_file_issued_is_genuine_with_its_seal(api_client, issued):
    response = upload(api_client, stored_bytes(issued))
    assert response.status_code == 200, response.content
    body = dict(response.json())
    seal = body.pop("seal")
    assert seal.keys() == {"valid", "signer", "signed_at"}
    assert body == {"genuine": True, "code": code_display(issued.code), "number": issued.number, "status": "valid"}
    assert seal["valid"] is True and "DEMO" in seal["signer"]
    assert datetime.datetime.fromisoformat(seal["signed_at"]) <= datetime.datetime.now(datetime.UTC)


def test_a_revoked_certificates_file_is_genuine_but_says_revoked(api_client, issued, operator):
    certificate_revoke(certificate=issued, reason="salah nama", by=operator)
    body = upload(api_client, stored_bytes(issued)).json()
    assert (body["genuine"], body["status"]) == (True, "revoked")


def test_a_byte_changed_after_sealing_is_modified(api_client, issued):
    data = stored_bytes(issued)
    # One byte of the verification code in the document information is rewritten (the file still
    # parses): it names no certificate now, but the code printed on the page is the certificate's.
    marker = f"/GCIOCode ({code_display(issued.code)})".encode()
    assert data.count(marker) == 1
    index = data.index(marker) + len(b"/GCIOCode (") + 1
    forged = data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]
    assert len(forged) == len(data) and forged != data
    assert upload(api_client, forged).json() == {"genuine": False, "reason": "modified"}


def stamped(data: bytes) -> bytes:
    """``data`` with text drawn on its page in an incremental update after the seal."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    writer.add_stream_to_page(
        0, writer.add_object(generic.StreamObject(stream_data=b"BT /F1 40 Tf 300 300 Td (X) Tj ET"))
    )
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def test_content_added_after_sealing_is_modified(api_client, issued):
    assert upload(api_client, stamped(stored_bytes(issued))).json() == {"genuine": False, "reason": "modified"}


def test_another_sealed_pdf_is_unknown(api_client, issued, tmp_path):
    other = render_sealed_certificate(
        CertificateContent(
            holder_name="Orang Lain",
            holder_nip="199001012015011001",
            course_title="Pelatihan Lain",
            cohort_name="Angkatan X",
            issued_on=datetime.date(2026, 12, 2),
            number="LAIN/2026/00001",
            code="ZZZZ-ZZZZ-ZZZZ",
            verify_url="https://contoh.example/verify/ZZZZ-ZZZZ-ZZZZ/",
            issuer="Badan Lain",
        ),
        sealer=demo_sealer(tmp_path),
    )
    assert upload(api_client, other).json() == {"genuine": False, "reason": "unknown"}


def test_a_copy_sealed_by_another_key_under_our_code_is_modified(api_client, issued, tmp_path):
    from certificates.services import certificate_content

    forged = render_sealed_certificate(certificate_content(issued), sealer=demo_sealer(tmp_path))
    assert upload(api_client, forged).json() == {"genuine": False, "reason": "modified"}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a not a pdf at all", "not_pdf"),
        (b"%PDF-1.7\n" + b"x" * (5 * 1024 * 1024) + b"\n%%EOF\n", "too_large"),
        (minimal_pdf(content=zip_bomb(2**30)), "unreadable"),
    ],
    ids=["not-a-pdf", "over-5-MB", "bomb"],
)
def test_bad_uploads_get_a_400_with_a_clear_message(api_client, data, code):
    response = upload(api_client, data, url=URL)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and body["detail"]


def test_an_encrypted_pdf_gets_a_400(api_client, issued):
    response = upload(api_client, encrypted_pdf(stored_bytes(issued)))
    assert (response.status_code, response.json()["code"]) == (400, "encrypted")


def test_no_file_gets_a_400(api_client):
    response = api_client.post(URL, {"other": "x"})
    assert (response.status_code, response.json()["code"]) == (400, "file_required")


def test_the_messages_are_indonesian_and_english(api_client):
    response = api_client.post(URL, {"file": SimpleUploadedFile("a.pdf", b"hello")}, HTTP_ACCEPT_LANGUAGE="id")
    indonesian = response.json()["detail"]
    response = api_client.post(URL, {"file": SimpleUploadedFile("a.pdf", b"hello")}, HTTP_ACCEPT_LANGUAGE="en")
    english = response.json()["detail"]
    assert english == "The file is not a PDF."
    assert indonesian != english and "PDF" in indonesian


def test_uploads_are_rate_limited_like_verification(api_client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"verify": "3/minute"}}
    statuses = [upload(api_client, b"not a pdf").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_the_verify_page_offers_the_upload_and_answers_it(client, issued):
    page = client.get(reverse("certificates:verify-form"))
    assert b'enctype="multipart/form-data"' in page.content and b'name="file"' in page.content
    response = upload(client, stored_bytes(issued), url=reverse("certificates:verify-document"))
    assert response.status_code == 200
    assert issued.number in response.content.decode()
    modified = upload(client, stamped(stored_bytes(issued)), url=reverse("certificates:verify-document"))
    assert modified.status_code == 200 and b"verdict-revoked" in modified.content
    refused = upload(client, b"GIF89a", url=reverse("certificates:verify-document"))
    assert refused.status_code == 400 and b'role="alert"' in refused.content
