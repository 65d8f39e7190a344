"""Each response shape has one builder; the serializer that documents it lists exactly its keys."""

import pytest
from django.utils import timezone

from certificates.api.serializers import ArchiveSerializer, RevokeResultSerializer, VerifySerializer
from certificates.models import CertificateArchive, CertificateStatus
from certificates.selectors import archive_payload, revocation_payload, verification_payload
from courses.api.serializers import CohortProgressModuleSerializer, CohortProgressSerializer
from courses.models import Enrollment
from courses.reports import cohort_progress_payload
from courses.selectors import enrollments_progress
from tests.factories import AttemptFactory, CertificateFactory, LessonFactory

pytestmark = pytest.mark.django_db


def fields(serializer_class) -> set[str]:
    return set(serializer_class().fields)


def test_the_cohort_progress_rows_are_what_their_serializer_documents():
    certificate = CertificateFactory()
    LessonFactory(module__course=certificate.enrollment.cohort.course)
    (row,) = cohort_progress_payload(enrollments_progress(Enrollment.objects.filter(pk=certificate.enrollment_id)))
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


def test_the_revocation_result_and_the_archive_are_what_their_serializers_document():
    certificate = CertificateFactory(status=CertificateStatus.REVOKED, revoked_at=timezone.now(), revoked_reason="x")
    assert set(revocation_payload(certificate)) == fields(RevokeResultSerializer)
    archive = CertificateArchive.objects.create(cohort=certificate.enrollment.cohort)
    assert set(archive_payload(archive)) == fields(ArchiveSerializer)


def test_the_attempt_factory_makes_an_attempt_the_participant_may_have():
    attempt = AttemptFactory()
    assert attempt.enrollment.cohort.course_id == attempt.quiz.module.course_id
    assert attempt.status == "in_progress"
