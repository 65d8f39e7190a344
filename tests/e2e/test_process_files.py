"""Real processes keep their files in the test's temporary MEDIA_ROOT: none land in the repository's media/."""

import hashlib

import pytest
from django.db import connection

from certificates.models import Certificate
from tests.certificates.conftest import complete
from tests.factories import CohortFactory, CourseFactory, EnrollmentFactory, LessonFactory, ModuleFactory, QuizFactory
from tests.processes import ROOT, process_env, process_storage, start_worker, tasks_to_redis, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_worker_stores_its_pdf_in_the_tests_media_root(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("integration tests run on PostgreSQL")
    module = ModuleFactory(course=CourseFactory(certificate_prefix="GCIO-PROC"), order=1)
    LessonFactory(module=module, order=1)
    QuizFactory(module=module)
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=module.course))
    worker = start_worker(tmp_path)
    try:
        with tasks_to_redis():
            complete(enrollment)
            certificate = wait_until(
                lambda: Certificate.objects.filter(enrollment=enrollment).exclude(sha256="").first(), timeout=20
            )
    finally:
        worker.stop()
    # The test process stores in memory; what the worker wrote is read where the worker wrote it.
    with process_storage(tmp_path).open(certificate.pdf.name) as stored:
        pdf = stored.read()
    assert pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == certificate.sha256
    assert not (ROOT / "media" / certificate.pdf.name).exists()


@pytest.mark.parametrize("media", [None, "", str(ROOT / "media"), str(ROOT / "media" / ".." / "media")])
def test_a_process_is_refused_the_repositorys_media_root(media):
    extra = {} if media is None else {"MEDIA_ROOT": media}
    with pytest.raises(ValueError, match="give test processes a temporary MEDIA_ROOT"):
        process_env(**extra)
