"""The official fields in me/certificates and verify/{code}, the verification page, a revoked certificate's download."""

import pytest
from django.urls import reverse

from certificates.codes import code_display
from certificates.services import certificate_revoke
from tests.certificates.official import stored_bytes

pytestmark = pytest.mark.django_db
OFFICIAL = {
    "jp": 5,
    "issuer": "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
    "period": {"starts_on": "2026-11-02", "ends_on": "2026-11-27"},
    "signed_by": "Dr. Andi Pratama, S.Kom., M.T.",
}


def test_my_certificates_items_carry_jp_issuer_period_and_signatory(api_client, issued):
    api_client.force_authenticate(issued.enrollment.participant.user)
    (item,) = api_client.get("/api/v1/me/certificates/").json()
    assert {key: item[key] for key in OFFICIAL} == OFFICIAL


def test_verification_of_a_valid_and_a_revoked_certificate_carries_them(api_client, issued, operator):
    url = f"/api/v1/verify/{code_display(issued.code)}/"
    body = api_client.get(url).json()
    assert {key: body[key] for key in OFFICIAL} == OFFICIAL
    assert body["valid"] is True and "DEMO" in body["sealed_by"]
    certificate_revoke(certificate=issued, reason="salah data", by=operator)
    body = api_client.get(url).json()
    assert {key: body[key] for key in OFFICIAL} == OFFICIAL
    assert (body["valid"], body["status"], body["reason"], body["replaced_by"]) == (
        False,
        "revoked",
        "salah data",
        None,
    )


def test_the_verification_page_names_the_issuing_body_jp_period_and_signatory(client, issued):
    page = client.get(reverse("certificates:verify", kwargs={"code": code_display(issued.code)})).content.decode()
    for text in (
        "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
        "5 JP",
        "2 November 2026",
        "27 November 2026",
        "Dr. Andi Pratama, S.Kom., M.T.",
        "Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
    ):
        assert text in page, text
    verdict = page[page.index("verdict-valid") :].split("</section>")[0]
    assert "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur" in verdict  # the issuer, not the platform
    assert "Platform Pelatihan GCIO" not in verdict and "GCIO Training Platform" not in verdict


def test_a_revoked_certificates_page_says_so_prominently(client, issued, operator):
    certificate_revoke(certificate=issued, reason="salah data", by=operator)
    url = reverse("certificates:verify", kwargs={"code": code_display(issued.code)})
    for language, title in (("id", "Sertifikat dicabut"), ("en", "Revoked certificate")):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        alert = page[page.index('role="alert"') :].split("</section>")[0]
        assert title in alert and "salah data" in alert


def test_the_holders_download_of_a_revoked_certificate_says_it_was_revoked(api_client, client, issued, operator):
    holder = issued.enrollment.participant.user
    issued_bytes = stored_bytes(issued)
    certificate_revoke(certificate=issued, reason="salah data", by=operator)
    api_client.force_authenticate(holder)
    response = api_client.get(f"/api/v1/certificates/{code_display(issued.code)}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == issued_bytes  # the stored PDF stays as issued
    assert "DICABUT" in response["Content-Disposition"] and response["Certificate-Status"] == "revoked"
    client.force_login(holder)
    page = client.get(reverse("certificates:mine", kwargs={"code": code_display(issued.code)})).content.decode()
    assert 'role="alert"' in page and "salah data" in page
