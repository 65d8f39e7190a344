"""Per-course certificate settings: loaded from course.yaml through courses' signal, used when issuing."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from certificates.models import CertificateSettings
from certificates.services import certificate_issue
from courses.models import Course
from courses.services import curriculum_load
from tests.certificates.conftest import complete
from tests.factories import CohortFactory, CourseFactory, EnrollmentFactory, LessonFactory, ModuleFactory

pytestmark = pytest.mark.django_db


def set_prefix(directory: Path, text: str) -> None:
    course_yaml = directory / "course.yaml"
    course_yaml.write_text(
        re.sub(r"^certificate_prefix: .*$", text, course_yaml.read_text(encoding="utf-8"), flags=re.M),
        encoding="utf-8",
    )


def test_the_curriculum_load_keeps_the_prefix_and_reports_a_change(gcio_copy):  # noqa: F811
    first = curriculum_load(slug="gcio", source_dir=gcio_copy)
    assert first.counts["certificate settings"] == {"created": 1}
    set_prefix(gcio_copy, "certificate_prefix: GCIO-KALTARA")
    second = curriculum_load(slug="gcio", source_dir=gcio_copy)
    assert second.counts["certificate settings"] == {"updated": 1}
    assert CertificateSettings.objects.get(course__slug="gcio").number_prefix == "GCIO-KALTARA"
    assert curriculum_load(slug="gcio", source_dir=gcio_copy).counts["certificate settings"] == {"unchanged": 1}


def test_a_course_yaml_without_a_prefix_stops_the_load_and_writes_nothing(gcio_copy):  # noqa: F811
    set_prefix(gcio_copy, "")
    with pytest.raises(CommandError, match="course.yaml: 'certificate_prefix' is required"):
        call_command("loadcurriculum", "--source", str(gcio_copy), stdout=StringIO())
    assert not Course.objects.exists() and not CertificateSettings.objects.exists()


def test_a_course_without_settings_numbers_with_the_default_prefix(django_capture_on_commit_callbacks, settings):
    settings.CERTIFICATES_NUMBER_PREFIX = "PELATIHAN"
    course = CourseFactory()
    CertificateSettings.objects.filter(course=course).delete()
    LessonFactory(module=ModuleFactory(course=course))
    enrollment = EnrollmentFactory(cohort=CohortFactory(course=course))
    complete(enrollment)
    certificate = certificate_issue(enrollment_id=enrollment.pk)
    assert certificate.number == f"PELATIHAN/{timezone.localdate().year}/00001"
