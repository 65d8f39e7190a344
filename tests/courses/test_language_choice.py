"""The language chosen in the top bar: a cookie kept for a year, and a participant's choice follows them
to another device."""

import pytest
from django.test import Client

from courses.models import ParticipantProfile
from tests.factories import ParticipantProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def choose(client, language: str):
    return client.post("/i18n/setlang/", {"language": language, "next": "/dashboard/"})


def test_the_cookie_lasts_a_year(client):
    response = choose(client, "en")
    assert response.status_code == 302
    cookie = response.cookies["django_language"]
    assert (cookie.value, cookie["max-age"]) == ("en", 365 * 24 * 60 * 60)


def test_a_participants_choice_follows_them_to_another_device(client):
    profile = ParticipantProfileFactory()
    client.force_login(profile.user)
    choose(client, "en")
    profile.refresh_from_db()
    assert profile.language == "en"

    phone = Client()  # no cookie yet
    response = phone.post("/accounts/login/", {"username": profile.nip, "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    assert "My courses" in phone.get("/dashboard/").content.decode()


def test_a_choice_made_on_this_device_before_signing_in_wins(client):
    profile = ParticipantProfileFactory(language="en")
    client.cookies["django_language"] = "id"
    response = client.post("/accounts/login/", {"username": profile.nip, "password": PASSWORD})
    assert response.status_code == 302
    assert "django_language" not in response.cookies  # the browser's own choice stays
    profile.refresh_from_db()
    assert profile.language == "id"


def test_nothing_is_kept_for_an_anonymous_visitor_staff_or_an_unknown_language(client):
    profile = ParticipantProfileFactory()
    choose(client, "en")
    client.force_login(UserFactory(username="staff-language", is_staff=True))
    choose(client, "en")
    client.force_login(profile.user)
    assert choose(client, "xx").status_code == 302
    assert choose(client, "fr").status_code == 302  # Django has French, the platform does not
    assert list(ParticipantProfile.objects.values_list("language", flat=True)) == [""]
