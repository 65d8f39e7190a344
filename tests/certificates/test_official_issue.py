"""Issuing the official certificate: everything copied into the row at issue, the PDF sealed, the demo seal."""

import datetime
import hashlib
import io
from io import StringIO

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certificates import credentials, sealing
from certificates.checks import the_configured_seal_can_seal
from certificates.errors import SealUnavailable
from certificates.models import Certificate, CertificateSettings, CohortSignatory
from certificates.services import certificate_content, certificate_issue
from tests.certificates.official import SIGNATORY, page_text, stored_bytes

pytestmark = pytest.mark.django_db


def test_the_row_holds_everything_the_certificate_says(issued):
    assert (issued.holder_name, issued.holder_nip) == ("Siti Rahmawati, S.Kom., M.Si.", "198503302010011002")
    assert issued.holder_position == "Kepala Seksi Tata Kelola E-Government"
    assert issued.holder_unit == "Dinas Komunikasi dan Informatika Kabupaten Kutai Kartanegara"
    assert (issued.period_starts_on, issued.period_ends_on) == (datetime.date(2026, 11, 2), datetime.date(2026, 11, 27))
    assert (issued.jp, issued.title, issued.issue_place) == (5, "SERTIFIKAT", "Samarinda")
    assert issued.issuer_name == "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur"
    assert {name: getattr(issued, name) for name in SIGNATORY} == SIGNATORY
    assert sealing.DEMO_SEAL_COMMON_NAME in issued.seal_signer  # no key configured: the demo seal


def test_the_issued_pdf_states_every_element(issued):
    text = page_text(stored_bytes(issued))
    today = issued.issued_at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).date()
    months = ("Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember").split()
    for element in (
        "SERTIFIKAT",
        f"Nomor: {issued.number}",
        "DINAS KOMUNIKASI DAN INFORMATIKA PROVINSI KALIMANTAN TIMUR",
        "diberikan kepada",
        "Siti Rahmawati, S.Kom., M.Si.",
        "NIP 198503302010011002",
        "Kepala Seksi Tata Kelola E-Government",
        "Dinas Komunikasi dan Informatika Kabupaten Kutai Kartanegara",
        "telah mengikuti dan dinyatakan LULUS",
        "Pelatihan Government Chief Information Officer (GCIO)",
        "Angkatan I 2026",
        "2 s.d. 27 November 2026",
        "5 JP",
        f"Samarinda, {today.day} {months[today.month - 1]} {today.year}",
        "Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
        "Dr. Andi Pratama, S.Kom., M.T.",
        "Pembina Utama Muda (IV/c)",
        "NIP 19700101 199503 1 001",
        issued.code[:4] + "-" + issued.code[4:8] + "-" + issued.code[8:],
        "Pindai kode QR",
        "Dokumen ini ditandatangani secara elektronik",
    ):
        assert element in text, element


def test_pyhanko_validates_the_seal_of_an_issued_certificate(issued):
    data = stored_bytes(issued)
    assert issued.sha256 == hashlib.sha256(data).hexdigest()  # the sealed bytes' hash is what is stored
    root = asn1_x509.Certificate.load(sealing.configured_sealer().certificate.public_bytes(serialization.Encoding.DER))
    (signature,) = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[root], allow_fetching=False))
    assert status.bottom_line, status.pretty_print_details()
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.sig_object["/Location"] == "Samarinda"


def test_a_cohorts_own_signing_official_signs_its_certificates(official_enrollment):
    CohortSignatory.objects.create(
        cohort=official_enrollment.cohort,
        signatory_name="Ir. Budi Santoso, M.Si.",
        signatory_position="Plt. Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
        signatory_nip="19710202 199603 1 002",
    )
    certificate = certificate_issue(enrollment_id=official_enrollment.pk)
    assert (certificate.signatory_name, certificate.signatory_rank) == ("Ir. Budi Santoso, M.Si.", "")
    assert "Ir. Budi Santoso, M.Si." in page_text(stored_bytes(certificate))


def test_changes_after_issue_never_change_an_issued_certificate(issued, official_enrollment):
    before_row = {f.attname: getattr(issued, f.attname) for f in Certificate._meta.fields}
    before_pdf, before_content = stored_bytes(issued), certificate_content(issued)
    CertificateSettings.objects.filter(course=official_enrollment.cohort.course).update(
        title="SURAT KETERANGAN PELATIHAN",
        issuer_name="Badan Lain",
        issue_place="Balikpapan",
        jp=40,
        signatory_name="X",
    )
    CohortSignatory.objects.create(cohort=official_enrollment.cohort, signatory_name="Y", signatory_position="Z")
    participant = official_enrollment.participant
    participant.full_name, participant.position, participant.unit = "Nama Lain", "Jabatan Lain", "Unit Lain"
    participant.save()
    cohort = official_enrollment.cohort
    cohort.starts_on, cohort.ends_on, cohort.name = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), "Lain"
    cohort.save()

    again = certificate_issue(enrollment_id=official_enrollment.pk)  # idempotent: the same certificate
    assert again.pk == issued.pk
    issued.refresh_from_db()
    assert {f.attname: getattr(issued, f.attname) for f in Certificate._meta.fields} == before_row
    assert stored_bytes(issued) == before_pdf
    assert certificate_content(issued) == before_content


def test_the_demo_seal_is_created_once_and_reused(settings, tmp_path, official_enrollment, django_user_model):
    settings.CERTIFICATES_KEY_DIR = str(tmp_path)
    settings.CERTIFICATES_SIGNING_P12 = ""
    out = StringIO()
    call_command("seeddemo", "--force", stdout=out)  # make run: creates the demo seal
    assert "demo seal" in out.getvalue()
    p12 = tmp_path / sealing.DEMO_SEAL_FILE
    created = (p12.read_bytes(), p12.stat().st_mtime_ns)
    first = certificate_issue(enrollment_id=official_enrollment.pk)
    call_command("seeddemo", "--force", stdout=StringIO())
    first.status, first.revoked_at, first.revoked_reason = "revoked", first.issued_at, "test"
    first.save()
    second = certificate_issue(enrollment_id=official_enrollment.pk, reissue=True)
    assert (p12.read_bytes(), p12.stat().st_mtime_ns) == created
    # Beside the seal, only the credentials' signing key the embedded default creates.
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == sorted(
        [sealing.DEMO_SEAL_FILE, sealing.DEMO_PASSPHRASE_FILE, credentials.SIGNING_KEY_FILE]
    )
    signers = {
        sealing.seal_validate(stored_bytes(c), trust_roots=[sealing.configured_sealer().certificate]).certificate_sha256
        for c in (first, second)
    }
    assert len(signers) == 1 and None not in signers


def test_the_demo_seal_is_created_on_the_first_issue_without_seeddemo(settings, tmp_path, official_enrollment):
    settings.CERTIFICATES_KEY_DIR = str(tmp_path / "keys")
    settings.CERTIFICATES_SIGNING_P12 = ""
    certificate = certificate_issue(enrollment_id=official_enrollment.pk)
    assert (tmp_path / "keys" / sealing.DEMO_SEAL_FILE).exists()
    assert sealing.seal_validate(stored_bytes(certificate), trust_roots=[sealing.configured_sealer().certificate]).valid


def test_a_configured_seal_that_cannot_seal_fails_the_check_and_issues_nothing(settings, tmp_path, official_enrollment):
    settings.CERTIFICATES_SIGNING_P12 = str(tmp_path / "missing.p12")
    (error,) = the_configured_seal_can_seal()
    assert error.id == "certificates.E002" and "cannot be read" in error.msg
    with pytest.raises(SealUnavailable):
        certificate_issue(enrollment_id=official_enrollment.pk)
    assert not Certificate.objects.exists()  # no number taken, nothing unsealed

    (tmp_path / "missing.p12").write_bytes(b"not a PKCS#12 file")
    assert the_configured_seal_can_seal()[0].id == "certificates.E002"
    with pytest.raises(SealUnavailable):
        certificate_issue(enrollment_id=official_enrollment.pk)
    assert not Certificate.objects.exists()


def test_without_a_configured_seal_the_check_passes(settings):
    settings.CERTIFICATES_SIGNING_P12 = ""
    assert the_configured_seal_can_seal() == []
