"""Each response shape has one builder; the serializer that documents it lists exactly its keys."""

from dataclasses import replace

import pytest
from django.utils import timezone

from certificates import sealing
from certificates.api.serializers import (
    ArchiveSerializer,
    DocumentVerificationSerializer,
    MyCertificateSerializer,
    PeriodSerializer,
    RevokeResultSerializer,
    SealSerializer,
    VerifySerializer,
)
from certificates.models import CertificateArchive, CertificateStatus
from certificates.selectors import (
    archive_payload,
    document_verification_payload,
    revocation_payload,
    verification_payload,
)
from courses.api.serializers import CohortProgressModuleSerializer, CohortProgressSerializer
from tests.factories import AttemptFactory, CertificateFactory, LessonFactory

pytestmark = pytest.mark.django_db


def fields(serializer_class) -> set[str]:
    return set(serializer_class().fields)


def test_the_cohort_progress_rows_are_what_their_serializer_documents(api_client, operator):
    certificate = CertificateFactory()
    LessonFactory(module__course=certificate.enrollment.cohort.course)
    api_client.force_authenticate(operator)
    (row,) = api_client.get(f"/api/v1/cohorts/{certificate.enrollment.cohort_id}/progress/").json()
    assert set(row) == fields(CohortProgressSerializer)
    assert {key for module in row["modules"] for key in module} == fields(CohortProgressModuleSerializer)
    assert row["certificate_number"] == certificate.number


def test_the_verification_body_is_what_its_serializer_documents():
    certificate = CertificateFactory()
    valid, _ = verification_payload(certificate)
    certificate.status, certificate.revoked_at, certificate.revoked_reason = (
        CertificateStatus.REVOKED,
        timezone.now(),
        "x",
    )
    revoked, _ = verification_payload(certificate)
    missing, _ = verification_payload(None)
    assert set(valid) | set(revoked) | set(missing) == fields(VerifySerializer)
    required = {name for name, field in VerifySerializer().fields.items() if field.required}
    assert required == set(missing) == {"valid", "status"}
    # API.md "Official certificates": valid and revoked alike.
    for body in (valid, revoked):
        assert {"jp", "issuer", "period", "signed_by"} <= set(body)
        assert set(body["period"]) == fields(PeriodSerializer) == {"starts_on", "ends_on"}
    assert "replaced_by" in revoked and "replaced_by" not in valid


def test_a_my_certificates_item_is_what_its_serializer_documents_and_carries_the_official_fields(rf):
    certificate = CertificateFactory(jp=5, issuer_name="Diskominfo", signatory_name="Dr. A")
    item = MyCertificateSerializer(certificate, context={"request": rf.get("/")}).data
    assert set(item) == fields(MyCertificateSerializer)
    assert (item["jp"], item["issuer"], item["signed_by"]) == (5, "Diskominfo", "Dr. A")
    assert set(item["period"]) == {"starts_on", "ends_on"}


def test_the_document_verification_body_is_what_its_serializer_documents(monkeypatch):
    certificate = CertificateFactory(sha256="ab" * 32)
    seal = sealing.SealStatus(present=True, intact=True, trusted=True, signer="DEMO", signed_at=timezone.now())
    inspection = sealing.Inspection(
        sha256="ab" * 32, code=certificate.code, code_source="info", seal=seal, pages=1, codes=(certificate.code,)
    )
    monkeypatch.setattr(sealing, "document_inspect", lambda data, trust_roots: inspection)
    monkeypatch.setattr(sealing, "seal_trust_roots", lambda: [])
    genuine = document_verification_payload(b"%PDF-")
    monkeypatch.setattr(sealing, "document_inspect", lambda data, trust_roots: replace(inspection, sha256="cd" * 32))
    modified = document_verification_payload(b"%PDF-")
    assert (genuine["genuine"], modified) == (True, {"genuine": False, "reason": "modified"})
    assert set(genuine) | set(modified) == fields(DocumentVerificationSerializer)
    assert set(genuine["seal"]) == fields(SealSerializer)


def test_the_revocation_result_and_the_archive_are_what_their_serializers_document():
    certificate = CertificateFactory(status=CertificateStatus.REVOKED, revoked_at=timezone.now(), revoked_reason="x")
    assert set(revocation_payload(certificate)) == fields(RevokeResultSerializer)
    archive = CertificateArchive.objects.create(cohort=certificate.enrollment.cohort)
    assert set(archive_payload(archive)) == fields(ArchiveSerializer)


def test_the_attempt_factory_makes_an_attempt_the_participant_may_have():
    attempt = AttemptFactory()
    assert attempt.enrollment.cohort.course_id == attempt.quiz.module.course_id
    assert attempt.status == "in_progress"
