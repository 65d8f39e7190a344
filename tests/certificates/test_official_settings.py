"""The official certificate's settings: defaults from CERTIFICATES_*, the course.yaml ``jp`` and ``certificate:`` block."""

import re

import pytest

from certificates.models import CertificateSettings
from courses.curriculum import CurriculumError
from courses.services import curriculum_load
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def test_the_gcio_course_yaml_gives_jp_issuer_place_title_and_position(gcio_copy):  # noqa: F811
    curriculum_load(slug="gcio", source_dir=gcio_copy)
    terms = CertificateSettings.objects.get(course__slug="gcio")
    assert terms.jp == 5  # course.yaml: 244 minutes of learning / 45, rounded
    assert terms.title == "SERTIFIKAT"
    assert terms.issuer_name == "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur"
    assert terms.issue_place == "Samarinda"
    assert terms.signatory_position == "Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur"
    assert not terms.issuer_logo  # a neutral text mark, never an invented coat of arms


def test_what_the_file_leaves_out_keeps_the_admins_value(gcio_copy, settings):  # noqa: F811
    settings.CERTIFICATES_SIGNATORY_NAME = "Dr. Contoh Pejabat, M.T."
    curriculum_load(slug="gcio", source_dir=gcio_copy)
    terms = CertificateSettings.objects.get(course__slug="gcio")
    assert terms.signatory_name == "Dr. Contoh Pejabat, M.T."  # the default at creation
    terms.signatory_name = "Ir. Pejabat Baru"
    terms.save()
    course_yaml = gcio_copy / "course.yaml"
    course_yaml.write_text(course_yaml.read_text(encoding="utf-8").replace('place: "Samarinda"', 'place: "Balikpapan"'))
    report = curriculum_load(slug="gcio", source_dir=gcio_copy)
    assert report.counts["certificate settings"] == {"updated": 1}
    terms.refresh_from_db()
    assert (terms.issue_place, terms.signatory_name) == ("Balikpapan", "Ir. Pejabat Baru")


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        ("jp: lima", "'jp' must be a whole number"),
        ("jp: 0", "'jp' must be a whole number"),
        ("certificate: [1, 2]", "'certificate' must be a mapping"),
        ("certificate:\n  colour: red", "unknown keys: colour"),
    ],
)
def test_a_malformed_value_stops_the_load(gcio_copy, replacement, message):  # noqa: F811
    course_yaml = gcio_copy / "course.yaml"
    text = course_yaml.read_text(encoding="utf-8")
    key = replacement.split(":")[0]
    if key == "jp":
        text = re.sub(r"^jp: .*$", replacement, text, flags=re.M)
    else:
        text = re.sub(r"^certificate:\n(  .*\n)+", replacement + "\n", text, flags=re.M)
    course_yaml.write_text(text, encoding="utf-8")
    with pytest.raises(CurriculumError, match=message):
        curriculum_load(slug="gcio", source_dir=gcio_copy)


def test_a_course_created_by_hand_takes_the_host_defaults(settings):
    settings.CERTIFICATES_ISSUER = "Dinas Kominfo Kabupaten Contoh"
    settings.CERTIFICATES_PLACE = "Tenggarong"
    terms = CourseFactory(certificate_prefix="X-1").certificate_settings
    assert (terms.issuer_name, terms.issue_place, terms.title) == (
        "Dinas Kominfo Kabupaten Contoh",
        "Tenggarong",
        "SERTIFIKAT",
    )
