"""Data migrations on a database that holds data: the certificate prefix moves from courses to certificates."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("courses", "0007_profile_language"), ("certificates", "0003_issue_job_attempts")]
AFTER = [("courses", "0008_course_certificate_prefix_to_certificates"), ("certificates", "0004_certificate_settings")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_courses_prefix_becomes_its_certificate_settings_and_back():
    old = migrate(BEFORE)
    Course = old.get_model("courses", "Course")
    gcio = Course.objects.create(slug="gcio", title="GCIO", certificate_prefix="GCIO-KALTIM")
    other = Course.objects.create(slug="other", title="Other", certificate_prefix="LAIN-2")
    try:
        new = migrate(AFTER)
        settings = new.get_model("certificates", "CertificateSettings")
        assert sorted(settings.objects.values_list("course_id", "number_prefix")) == [
            (gcio.pk, "GCIO-KALTIM"),
            (other.pk, "LAIN-2"),
        ]
        assert "certificate_prefix" not in {f.name for f in new.get_model("courses", "Course")._meta.fields}

        back = migrate(BEFORE)
        assert sorted(back.get_model("courses", "Course").objects.values_list("slug", "certificate_prefix")) == [
            ("gcio", "GCIO-KALTIM"),
            ("other", "LAIN-2"),
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
