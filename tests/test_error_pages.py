"""The site's own 404, 403 and 500 pages in both languages, the 404 one with DEBUG on too (SHOW_FRIENDLY_404),
and the favicon."""

import pytest
from django.template import loader
from django.utils import translation

from tests.factories import ParticipantProfileFactory
from tests.test_content_security_policy import inline_code

pytestmark = pytest.mark.django_db


def test_a_missing_page_in_indonesian_and_english(client):
    response = client.get("/tidak-ada/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "Halaman tidak ditemukan" in html
    assert 'href="/"' in html and 'href="/verify/"' in html
    assert inline_code(html) == []
    english = client.get("/tidak-ada/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Page not found" in english and '<html lang="en">' in english


@pytest.mark.parametrize("path", ["/tidak-ada/", "/courses/no-such-course/"], ids=["no-route", "view-raises-404"])
def test_with_debug_on_a_new_user_still_sees_the_friendly_page(client, settings, path):
    settings.DEBUG = True
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Halaman tidak ditemukan" in html
    assert "URLconf" not in html and "technical" not in html


def test_a_developer_may_ask_for_djangos_technical_page(client, settings):
    settings.DEBUG = True
    settings.SHOW_FRIENDLY_404 = False
    html = client.get("/tidak-ada/").content.decode()
    assert "Using the URLconf defined in" in html
    assert "Halaman tidak ditemukan" not in html


def test_with_debug_on_a_missing_slash_is_still_added(client, settings):
    settings.DEBUG = True
    response = client.get("/dashboard")
    assert (response.status_code, response["Location"]) == (301, "/dashboard/")


def test_a_refused_page(client):
    client.force_login(ParticipantProfileFactory().user)
    response = client.get("/operator/cohorts/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Akses ditolak" in html and "Pelatihan saya" in html
    assert inline_code(html) == []
    assert "Access denied" in client.get("/operator/cohorts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.urls("tests.error_urls")
def test_a_failure_shows_the_500_page(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Terjadi kesalahan" in html and '<html lang="id">' in html
    assert inline_code(html) == []
    assert "Something went wrong" in client.get("/boom/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_500_page_needs_neither_database_nor_request(django_assert_num_queries):
    with django_assert_num_queries(0), translation.override("en"):
        html = loader.get_template("500.html").render()
    assert "Something went wrong" in html


def test_the_favicon(client):
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/courses/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (302, "/static/courses/favicon.ico")


def test_the_home_page_explains_and_links_to_login_and_verification(client):
    html = client.get("/").content.decode()
    assert 'href="/accounts/login/"' in html
    assert 'href="/verify/"' in html
    assert "Periksa keaslian sertifikat" in html
