"""Verification's answers from the shared cache: served without a query, dropped by every change, never stale."""

import socket

import pytest
from django.core.cache import caches

from certificates import throttles
from certificates.codes import code_display
from certificates.models import Certificate, CertificateStatus
from certificates.services import certificate_correct, certificate_reissue, certificate_revoke
from certificates.verification_cache import _built, _verification_key, code_verification
from tests.processes import BROKER_URL

pytestmark = pytest.mark.django_db


def url(certificate: Certificate) -> str:
    return f"/api/v1/verify/{code_display(certificate.code)}/"


def verification_keys() -> list[str]:
    """The verification answers the (local memory) test cache holds."""
    return [key for key in caches["default"]._cache if ":certificates:verify:" in key]


def test_a_cached_answer_is_served_without_a_query(api_client, issued, django_assert_num_queries):
    first = api_client.get(url(issued))
    assert first.status_code == 200 and first.json()["holder_name"] == "Siti Rahmawati, S.Kom., M.Si."
    # Behind the services' back: the cached answer is what is served, until it expires.
    Certificate.objects.filter(pk=issued.pk).update(holder_name="Someone Else")
    with django_assert_num_queries(0):
        again = api_client.get(url(issued))
        page = api_client.get(f"/verify/{code_display(issued.code).lower()}/")
    assert (again.status_code, again.content, again["Content-Type"]) == (200, first.content, "application/json")
    assert page.status_code == 200 and "Siti Rahmawati, S.Kom., M.Si." in page.content.decode()


def test_the_api_and_the_page_share_the_answer(client, api_client, issued, django_assert_num_queries):
    assert client.get(f"/verify/{code_display(issued.code)}/").status_code == 200
    with django_assert_num_queries(0):
        assert api_client.get(url(issued)).json()["number"] == issued.number


def test_without_a_cache_time_every_verification_reads_the_database(api_client, issued, settings):
    settings.CERTIFICATES_VERIFY_CACHE_SECONDS = 0
    assert api_client.get(url(issued)).json()["status"] == "valid"
    Certificate.objects.filter(pk=issued.pk).update(holder_name="Someone Else")
    assert api_client.get(url(issued)).json()["holder_name"] == "Someone Else"
    assert verification_keys() == []


def test_verification_right_after_a_revocation_says_revoked(
    api_client, issued, operator, django_capture_on_commit_callbacks
):
    assert api_client.get(url(issued)).json()["valid"] is True  # cached
    api_client.force_authenticate(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            f"/api/v1/certificates/{code_display(issued.code)}/revoke/", {"reason": "Diterbitkan keliru"}, format="json"
        )
    assert response.status_code == 200
    api_client.force_authenticate(None)
    body = api_client.get(url(issued)).json()
    assert (body["valid"], body["status"], body["reason"]) == (False, "revoked", "Diterbitkan keliru")
    page = api_client.get(f"/verify/{code_display(issued.code)}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Revoked certificate" in page


def test_an_answer_read_before_a_revocation_committed_is_never_cached_after_it(
    api_client, issued, operator, django_capture_on_commit_callbacks
):
    stale = _built(issued.code)  # a request that read the row just before the revocation
    assert stale.body["valid"] is True
    with django_capture_on_commit_callbacks(execute=True):
        certificate_revoke(certificate=issued, reason="Diterbitkan keliru", by=operator)
    # … and then tries to keep what it read, as code_verification does: refused.
    assert caches["default"].add(_verification_key(issued.code), stale, 60) is False
    assert api_client.get(url(issued)).json()["status"] == "revoked"
    assert code_verification(issued.code).body["status"] == "revoked"


def test_a_correction_drops_the_old_codes_answer(api_client, issued, operator, django_capture_on_commit_callbacks):
    assert api_client.get(url(issued)).json()["valid"] is True
    with django_capture_on_commit_callbacks(execute=True):
        new = certificate_reissue(certificate=issued, by=operator, reason="koreksi nama")
    old = api_client.get(url(issued)).json()
    assert (old["status"], old["replaced_by"]) == ("revoked", {"number": new.number, "code": code_display(new.code)})
    assert api_client.get(url(new)).json()["valid"] is True


def test_a_correction_of_the_participant_drops_the_answer(api_client, issued, official_enrollment):
    assert api_client.get(url(issued)).json()["valid"] is True
    participant = official_enrollment.participant
    participant.full_name = "Siti Rahmawati Putri"
    participant.save()
    new = certificate_correct(enrollment_id=official_enrollment.pk, changes={"full_name": "x"})
    assert new is not None and new.holder_name == "Siti Rahmawati Putri"
    old = api_client.get(url(issued)).json()
    assert old["status"] == "revoked" and old["replaced_by"]["number"] == new.number
    assert api_client.get(url(new)).json()["holder_name"] == "Siti Rahmawati Putri"


def test_a_reissue_after_a_revocation_drops_the_revoked_answer(api_client, issued, operator):
    certificate_revoke(certificate=issued, reason="Nama salah", by=operator)
    assert api_client.get(url(issued)).json()["replaced_by"] is None  # cached: revoked, not replaced yet
    issued.refresh_from_db()
    new = certificate_reissue(certificate=issued, by=operator)
    assert new.status == CertificateStatus.VALID
    assert api_client.get(url(issued)).json()["replaced_by"] == {"number": new.number, "code": code_display(new.code)}


def test_unknown_codes_are_not_cached(api_client, issued):
    for n in range(20):
        response = api_client.get(f"/api/v1/verify/0000-0000-{n:04d}/")
        assert (response.status_code, response.json()) == (404, {"valid": False, "status": "not_found"})
    assert api_client.get("/api/v1/verify/not-a-code/").status_code == 404
    assert verification_keys() == []
    assert api_client.get(url(issued)).status_code == 200
    assert len(verification_keys()) == 1


def test_the_throttle_applies_to_cached_answers(api_client, issued, settings, django_assert_num_queries):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"verify": "2/minute"}}
    assert api_client.get(url(issued)).status_code == 200
    with django_assert_num_queries(0):
        assert api_client.get(url(issued)).status_code == 200
        throttled = api_client.get(url(issued))
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert throttled.json()["code"] == "throttled" and throttled.json()["detail"]


def test_other_methods_and_negotiations_keep_drf_answers(api_client, issued):
    assert api_client.post(url(issued)).status_code == 405
    assert api_client.options(url(issued)).status_code == 200
    assert api_client.get(url(issued), HTTP_ACCEPT="text/html").status_code == 406
    assert api_client.get(url(issued) + "?format=json").json()["number"] == issued.number
    indented = api_client.get(url(issued), HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.startswith(b'{\n  "valid": true')
    for accept in ("application/json", "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"):
        assert api_client.get(url(issued), HTTP_ACCEPT=accept).json()["number"] == issued.number


@pytest.mark.integration
def test_on_redis_the_throttle_counts_and_reads_in_one_round_trip(api_client, issued, operator, settings, monkeypatch):
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": BROKER_URL, "KEY_PREFIX": "verification-test"}
    }
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"verify": "3/minute"}}
    cache = caches["default"]
    cache.clear()
    try:
        # The script loaded in Redis as in a running deployment (a Redis that lost it is the test below),
        # and no answer cached yet.
        assert api_client.get(url(issued), REMOTE_ADDR="10.1.2.2").status_code == 200
        cache.delete(_verification_key(issued.code))
        commands = []
        # Every command is packed by its connection's packer, whichever path sends it (the throttle's
        # own connection or redis-py's command path).
        pool = cache._cache.get_client(write=True).connection_pool
        packer = type(pool.connection_class(**pool.connection_kwargs)._command_packer)
        original = packer.pack
        monkeypatch.setattr(packer, "pack", lambda self, *args: commands.append(args[0]) or original(self, *args))
        statuses = [api_client.get(url(issued)).status_code for _ in range(3)]
        cache_reads = commands.count("EVALSHA") + commands.count("EVAL")
        assert statuses == [200, 200, 200]
        # Each request: one script (count + read); the first also adds the answer.
        assert cache_reads == 3 and commands.count("GET") == 0 and commands.count("SET") == 1
        assert cache.get(_verification_key(issued.code)).body["number"] == issued.number
        throttled = api_client.get(url(issued))
        assert throttled.status_code == 429 and throttled["Retry-After"]
        assert api_client.get(url(issued), REMOTE_ADDR="10.1.2.3").status_code == 200
        certificate_revoke(certificate=issued, reason="Keliru", by=operator)
        assert api_client.get(url(issued), REMOTE_ADDR="10.1.2.4").json()["status"] == "revoked"
    finally:
        cache.clear()


@pytest.fixture
def redis_cache(settings):
    """The default cache on the test Redis, the verification limit at 3 a minute."""
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": BROKER_URL, "KEY_PREFIX": "verification-test"}
    }
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"verify": "3/minute"}}
    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()


@pytest.mark.integration
def test_the_count_goes_on_when_redis_lost_the_script(api_client, issued, redis_cache):
    assert api_client.get(url(issued)).status_code == 200
    redis_cache._cache.get_client(write=True).script_flush()  # as after a Redis restart
    # NOSCRIPT on the throttle's own connection: redis-py's path loads it again and counts once.
    assert [api_client.get(url(issued)).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.integration
def test_the_count_goes_on_when_the_throttles_connection_is_lost(api_client, issued, redis_cache):
    assert api_client.get(url(issued)).status_code == 200
    pool, _, connection = throttles._own.held
    assert pool is redis_cache._cache.get_client(write=True).connection_pool
    connection._sock.shutdown(socket.SHUT_RDWR)  # as when Redis or the network drops it
    # Nothing was sent on the dead connection: redis-py's path counts the request, once.
    assert [api_client.get(url(issued)).status_code for _ in range(3)] == [200, 200, 429]
    assert throttles._own.held[2]._sock is not None  # connected again for the requests after
