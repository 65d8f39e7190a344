"""Sign-in attempts (token API, login page, admin) and password-reset emails are limited (API.md "Security rules")."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core import mail
from rest_framework.authtoken.models import Token

from tests.factories import ParticipantProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
WITA = zoneinfo.ZoneInfo("Asia/Makassar")
# 14.15 WITA: a lockout that starts now ends at 14.30 WITA.
START = datetime.datetime(2026, 3, 2, 14, 15, tzinfo=WITA)


@pytest.fixture
def frozen():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def participant():
    return ParticipantProfileFactory()


def token(api_client, username: str, password: str, *, ip: str = "203.0.113.10", **extra):
    return api_client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=ip, **extra
    )


def page_login(client, username: str, password: str, *, ip: str = "203.0.113.10", **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def admin_login(client, username: str, password: str, *, ip: str = "203.0.113.10"):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_token_ten_failures_then_the_right_password_is_429_with_retry_after(api_client, participant, frozen):
    for _ in range(10):
        response = token(api_client, participant.nip, "wrong")
        assert response.status_code == 400
    response = token(api_client, participant.nip, PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert response.json() == {
        "detail": "Too many failed sign-in attempts. Try again in 15 minutes.",
        "code": "too_many_attempts",
    }
    assert not Token.objects.exists()
    # Retry-After counts down to the end of the window; a refused attempt does not extend it.
    frozen.shift(datetime.timedelta(minutes=4, seconds=30))
    response = token(api_client, participant.nip, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "630"
    assert response.json() == {
        "detail": "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam 11 menit.",
        "code": "too_many_attempts",
    }


def test_login_page_ten_failures_then_the_right_password_is_429_in_indonesian(client, participant, frozen):
    for _ in range(10):
        response = page_login(client, participant.nip, "wrong")
        assert response.status_code == 200
        assert not signed_in(client)
    response = page_login(client, participant.nip, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    page = response.content.decode()
    assert "Terlalu banyak percobaan masuk yang gagal." in page
    assert "Coba lagi dalam 15 menit, pukul 14.30 WITA." in page
    assert not signed_in(client)


def test_login_page_lockout_speaks_english_when_asked(client, participant, frozen):
    for _ in range(10):
        page_login(client, participant.nip, "wrong")
    frozen.shift(datetime.timedelta(minutes=1))
    response = page_login(client, participant.nip, PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert response["Retry-After"] == "840"
    page = response.content.decode()
    assert "Too many failed sign-in attempts." in page
    assert "Try again in 14 minutes, at 14:30 WITA." in page


def test_one_client_is_limited_across_usernames(api_client, client, participant, frozen):
    for n in range(10):
        assert token(api_client, f"guess-{n}", "wrong", ip="198.51.100.7").status_code == 400
    # Another person's right password from the same client is refused too ...
    assert token(api_client, participant.nip, PASSWORD, ip="198.51.100.7").status_code == 429
    assert page_login(client, participant.nip, PASSWORD, ip="198.51.100.7").status_code == 429
    assert not Token.objects.exists() and not signed_in(client)
    # ... while that person, from their own client, is not locked out.
    assert token(api_client, participant.nip, PASSWORD, ip="198.51.100.8").status_code == 200


def test_one_username_is_limited_across_clients(api_client, participant, frozen):
    other = ParticipantProfileFactory()
    for n in range(10):
        assert token(api_client, participant.nip, "wrong", ip=f"198.51.100.{n + 1}").status_code == 400
    response = token(api_client, participant.nip, PASSWORD, ip="192.0.2.200")
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert not Token.objects.filter(user=participant.user).exists()
    # The fresh client itself is not locked: someone else signs in from it.
    assert token(api_client, other.nip, PASSWORD, ip="192.0.2.200").status_code == 200


def test_signing_in_works_again_once_the_window_ends(api_client, client, participant, frozen):
    for _ in range(10):
        token(api_client, participant.nip, "wrong")
    frozen.shift(datetime.timedelta(minutes=14, seconds=59))
    response = token(api_client, participant.nip, PASSWORD)
    assert (response.status_code, response["Retry-After"]) == (429, "1")
    frozen.shift(datetime.timedelta(seconds=1))
    assert token(api_client, participant.nip, PASSWORD).status_code == 200
    assert page_login(client, participant.nip, PASSWORD).status_code == 302
    assert signed_in(client)


def test_an_operator_can_lift_a_lockout_early(api_client, participant, frozen):
    from django.core.management import call_command

    for n in range(10):
        token(api_client, participant.nip, "wrong", ip=f"198.51.100.{n + 1}")
    for n in range(10):
        token(api_client, f"guess-{n}", "wrong", ip="192.0.2.7")
    assert token(api_client, participant.nip, PASSWORD, ip="192.0.2.8").status_code == 429
    call_command("axes_reset_username", f"username:{participant.nip}")
    assert token(api_client, participant.nip, PASSWORD, ip="192.0.2.8").status_code == 200
    assert token(api_client, participant.nip, PASSWORD, ip="192.0.2.7").status_code == 429
    call_command("axes_reset_ip", "192.0.2.7")
    assert token(api_client, participant.nip, PASSWORD, ip="192.0.2.7").status_code == 200


def test_page_api_and_admin_failures_share_one_count(api_client, client, admin_user, frozen):
    for n in range(4):
        assert page_login(client, "admin", "wrong", ip=f"198.51.100.{n + 1}").status_code == 200
    for n in range(4):
        assert token(api_client, "admin", "wrong", ip=f"198.51.100.{n + 11}").status_code == 400
    for n in range(2):
        assert admin_login(client, "admin", "wrong", ip=f"198.51.100.{n + 21}").status_code == 200
    response = admin_login(client, "admin", "password", ip="192.0.2.1")
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Coba lagi dalam 15 menit" in response.content.decode()
    assert token(api_client, "admin", "password", ip="192.0.2.2").status_code == 429
    assert page_login(client, "admin", "password", ip="192.0.2.3").status_code == 429
    assert not signed_in(client) and not Token.objects.exists()


def test_a_nip_with_spaces_counts_as_the_same_username(api_client, client, participant, frozen):
    nip = participant.nip
    spaced = f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"
    for n in range(5):
        assert page_login(client, spaced, "wrong", ip=f"198.51.100.{n + 1}").status_code == 200
    for n in range(3):
        assert token(api_client, nip, "wrong", ip=f"198.51.100.{n + 11}").status_code == 400
    for n in range(2):
        assert token(api_client, f" {spaced} ", "wrong", ip=f"198.51.100.{n + 21}").status_code == 400
    assert page_login(client, spaced, PASSWORD, ip="192.0.2.1").status_code == 429
    assert token(api_client, nip, PASSWORD, ip="192.0.2.2").status_code == 429


def test_a_username_spelled_like_an_address_does_not_lock_that_client(api_client, participant, frozen):
    for n in range(10):
        token(api_client, "192.0.2.50", "wrong", ip=f"198.51.100.{n + 1}")
    assert token(api_client, "192.0.2.50", "wrong", ip="192.0.2.51").status_code == 429
    assert token(api_client, participant.nip, PASSWORD, ip="192.0.2.50").status_code == 200


def test_a_forged_forwarded_for_header_gives_no_fresh_client(api_client, participant, settings, frozen):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    for n in range(10):
        response = token(api_client, f"guess-{n}", "wrong", ip="198.51.100.7", HTTP_X_FORWARDED_FOR=f"10.1.0.{n}")
        assert response.status_code == 400
    response = token(api_client, participant.nip, PASSWORD, ip="198.51.100.7", HTTP_X_FORWARDED_FOR="10.1.0.99")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_appended(api_client, participant, settings, frozen):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for n in range(10):
        token(api_client, f"guess-{n}", "wrong", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.77")
    # The same client, whatever it writes in front of the proxy's entry, is still locked out ...
    forged = "192.0.2.9, 203.0.113.77"
    assert token(api_client, participant.nip, PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR=forged).status_code == 429
    # ... and another client behind the same proxy is not.
    assert (
        token(api_client, participant.nip, PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.78").status_code
        == 200
    )


def test_the_schema_declares_the_token_endpoints_responses(api_client):
    schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    responses = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert set(responses) == {"200", "400", "401", "403", "404", "406", "415", "429"}
    ref = responses["429"]["content"]["application/json"]["schema"]["$ref"]
    error = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(error["properties"]) == {"detail", "code"}
    assert "Retry-After" in responses["429"]["headers"]
    token_ref = responses["200"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schema["components"]["schemas"][token_ref.rsplit("/", 1)[1]]["properties"]) == {"token"}


def test_a_deployment_counting_in_process_memory_is_warned(settings):
    from courses.checks import login_failures_unshared

    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [w.id for w in login_failures_unshared()] == ["courses.W001"]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/11"}
    }
    assert login_failures_unshared() == []
    # A local run (DEBUG, one process) may count in memory.
    settings.DEBUG = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert login_failures_unshared() == []


def reset(client, email: str):
    return client.post("/accounts/password-reset/", {"email": email}, REMOTE_ADDR="203.0.113.10")


def test_at_most_three_reset_emails_per_address_an_hour(client, participant, frozen):
    participant.user.email = "budi@example.org"
    participant.user.save()
    other = UserFactory(email="sari@example.org")
    responses = [reset(client, address) for address in ("budi@example.org", "BUDI@example.org", " budi@example.org ")]
    fourth = reset(client, "Budi@Example.org")
    assert [r.status_code for r in responses + [fourth]] == [302, 302, 302, 302]
    assert fourth["Location"] == "/accounts/password-reset/sent/"
    assert [m.to for m in mail.outbox] == [["budi@example.org"]] * 3
    # The page after the fourth request is the usual "sent" page.
    sent = client.get(fourth["Location"])
    assert sent.status_code == 200
    assert [t.name for t in sent.templates][0] == "courses/auth/password_reset_done.html"
    # An address without an account gets the same answer, and nothing is sent to it.
    unknown = [reset(client, "nobody@example.org") for _ in range(4)]
    assert [(r.status_code, r["Location"]) for r in unknown] == [(302, "/accounts/password-reset/sent/")] * 4
    assert len(mail.outbox) == 3
    # Another address has its own allowance.
    reset(client, other.email)
    assert [m.to for m in mail.outbox][3:] == [["sari@example.org"]]
    # An hour after the first request, one more email may go out.
    frozen.shift(datetime.timedelta(minutes=59, seconds=59))
    reset(client, "budi@example.org")
    assert len(mail.outbox) == 4
    frozen.shift(datetime.timedelta(seconds=1))
    reset(client, "budi@example.org")
    assert [m.to for m in mail.outbox][4:] == [["budi@example.org"]]
