"""Re-issue with corrections: new number and code, the old one revoked "diganti oleh …", the signal from courses."""

import pytest
from django.urls import reverse

from certificates.codes import code_display
from certificates.errors import AlreadyRevoked, StillValid
from certificates.models import Certificate, CertificateStatus
from certificates.services import certificate_correct, certificate_reissue, certificate_revoke
from courses.signals import participant_corrected
from tests.certificates.official import page_text, stored_bytes

pytestmark = pytest.mark.django_db


def correct_name(enrollment, name="Siti Rahmawati Putri, S.Kom., M.Si."):
    participant = enrollment.participant
    participant.full_name = name
    participant.position = "Kepala Bidang Tata Kelola E-Government"
    participant.save()


def test_a_correction_reissues_with_a_new_number_and_code_and_revokes_the_old(issued, official_enrollment, operator):
    correct_name(official_enrollment)
    new = certificate_reissue(certificate=issued, by=operator, reason="koreksi nama")
    issued.refresh_from_db()
    assert (new.number, new.code) != (issued.number, issued.code)
    assert new.number.endswith("/00002") and new.replaces_id == issued.pk
    assert (new.holder_name, new.holder_position) == (
        "Siti Rahmawati Putri, S.Kom., M.Si.",
        "Kepala Bidang Tata Kelola E-Government",
    )
    assert "Siti Rahmawati Putri, S.Kom., M.Si." in page_text(stored_bytes(new))
    assert issued.status == CertificateStatus.REVOKED and issued.revoked_by == operator
    assert issued.revoked_reason == f"diganti oleh {new.number} (koreksi nama)"
    assert issued.holder_name == "Siti Rahmawati, S.Kom., M.Si."  # the old one still says what it said
    assert Certificate.objects.filter(status=CertificateStatus.VALID).get() == new


def test_verification_of_the_old_code_shows_the_replacement(api_client, client, issued, official_enrollment, operator):
    correct_name(official_enrollment)
    new = certificate_reissue(certificate=issued, by=operator, reason="koreksi nama")
    body = api_client.get(f"/api/v1/verify/{code_display(issued.code)}/").json()
    assert (body["status"], body["reason"]) == ("revoked", f"diganti oleh {new.number} (koreksi nama)")
    assert body["replaced_by"] == {"number": new.number, "code": code_display(new.code)}
    page = client.get(reverse("certificates:verify", kwargs={"code": code_display(issued.code)})).content.decode()
    assert new.number in page and reverse("certificates:verify", kwargs={"code": code_display(new.code)}) in page


def test_a_valid_certificate_needs_a_reason_and_a_second_correction_loses(issued, operator):
    with pytest.raises(StillValid):
        certificate_reissue(certificate=issued, by=operator, reason=" ")
    stale = Certificate.objects.get(pk=issued.pk)
    certificate_reissue(certificate=issued, by=operator, reason="koreksi")
    with pytest.raises(AlreadyRevoked):
        certificate_reissue(certificate=stale, by=operator, reason="koreksi")
    assert Certificate.objects.count() == 2


def test_reissue_after_a_revocation_still_works_and_records_what_it_replaces(issued, operator):
    certificate_revoke(certificate=issued, reason="keliru", by=operator)
    new = certificate_reissue(certificate=issued, by=operator)
    issued.refresh_from_db()
    assert new.replaces_id == issued.pk and issued.revoked_reason == "keliru"
    with pytest.raises(StillValid):
        certificate_reissue(certificate=issued, by=operator)


def test_the_corrected_signal_reissues_once(issued, official_enrollment, operator, django_capture_on_commit_callbacks):
    correct_name(official_enrollment)
    with django_capture_on_commit_callbacks(execute=True):
        participant_corrected.send(
            sender=None,
            enrollment_id=official_enrollment.pk,
            by_id=operator.pk,
            changes={"full_name": "Siti Rahmawati Putri, S.Kom., M.Si.", "position": "Kepala Bidang"},
        )
    new = Certificate.objects.get(status=CertificateStatus.VALID)
    assert new.replaces_id == issued.pk and new.holder_name == "Siti Rahmawati Putri, S.Kom., M.Si."
    issued.refresh_from_db()
    assert issued.revoked_reason == f"diganti oleh {new.number} (koreksi data peserta: nama, jabatan)"
    assert issued.revoked_by == operator
    # The same message again (a redelivery), or a correction that changes nothing printed: nothing.
    assert certificate_correct(enrollment_id=official_enrollment.pk, by_id=operator.pk, changes={}) is None
    assert Certificate.objects.count() == 2


def test_a_correction_without_a_certificate_does_nothing(official_enrollment):
    correct_name(official_enrollment)
    assert certificate_correct(enrollment_id=official_enrollment.pk, by_id=None, changes={"full_name": "x"}) is None
    assert not Certificate.objects.exists()
