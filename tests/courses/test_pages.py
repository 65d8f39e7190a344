"""Server-rendered pages: the Indonesian home page, the course page, admin, language switch."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def gcio():
    call_command("loadcurriculum", verbosity=0)


def test_home_page_is_indonesian_by_default_and_lists_the_gcio_course(client, gcio):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "Masuk dengan NIP" in html
    assert "Pelatihan Government Chief Information Officer" in html
    assert 'name="viewport"' in html


def test_home_page_in_english_on_request(client, gcio):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html
    assert "Log in with your NIP" in html


def test_language_switch_sets_english(client, gcio):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "Log in with your NIP" in client.get("/").content.decode()


def test_course_page_lists_the_four_modules(client, gcio):
    html = client.get("/courses/gcio/").content.decode()
    for stage in ("Transformasi digital", "Kepemimpinan digital", "Penerapan", "Hal yang perlu diperhatikan"):
        assert stage in html


def test_admin_is_reachable_and_indonesian(client, admin_user, gcio):
    client.force_login(admin_user)
    response = client.get("/admin/courses/course/")
    assert response.status_code == 200
    assert "Pilih pelatihan untuk diubah" in response.content.decode()
    assert client.get("/admin/assessments/quiz/").status_code == 200
