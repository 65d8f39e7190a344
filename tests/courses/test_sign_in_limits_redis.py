"""With Redis as the cache, every web process counts failed sign-ins in one place (a real second process)."""

import json
import os
import subprocess
import sys
import uuid

import pytest
import redis

from tests.factories import ParticipantProfileFactory
from tests.processes import BROKER_URL, ROOT, database_url

# The other process must see the participant, so the data is committed; serialized_rollback puts back
# what the migrations wrote (content types, permissions, groups) for the tests that run after this one.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "correct horse battery"
# The same process in another web worker: its own interpreter and its own connection to Redis.
OTHER_PROCESS = """
import json, sys
import django
django.setup()
from django.test import Client
from django.test.utils import override_settings
caches, nip = json.loads(sys.argv[1]), sys.argv[2]
with override_settings(CACHES=caches):
    client = Client()
    codes = [
        client.post(
            "/api/v1/auth/token/", {"username": nip, "password": "wrong"},
            content_type="application/json", REMOTE_ADDR="198.51.100.2",
        ).status_code
        for _ in range(4)
    ]
print(json.dumps(codes))
"""


@pytest.fixture
def redis_caches(settings):
    prefix = f"sign-in-test-{uuid.uuid4().hex[:8]}"
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": BROKER_URL,
            "KEY_PREFIX": prefix,
        }
    }
    settings.CACHES = caches
    yield caches
    server = redis.Redis.from_url(BROKER_URL)
    keys = server.keys(f"{prefix}:*")
    if keys:
        server.delete(*keys)


def test_failures_in_two_processes_add_up_in_redis(api_client, redis_caches, rf):
    participant = ParticipantProfileFactory()
    for _ in range(6):
        response = api_client.post(
            "/api/v1/auth/token/", {"username": participant.nip, "password": "wrong"}, REMOTE_ADDR="198.51.100.1"
        )
        assert response.status_code == 400

    env = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.test_settings", DATABASE_URL=database_url())
    other = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, json.dumps(redis_caches), participant.nip],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout.strip().splitlines()[-1]) == [400, 400, 400, 400]

    # The username's counter, in Redis, holds both processes' failures and expires with the window.
    from axes.helpers import get_client_cache_keys

    request = rf.post("/api/v1/auth/token/", REMOTE_ADDR="198.51.100.3")
    username_key = get_client_cache_keys(request, {"username": participant.nip})[0]
    server = redis.Redis.from_url(BROKER_URL)
    stored = f"{redis_caches['default']['KEY_PREFIX']}:1:{username_key}"
    assert server.get(stored) == b"10"
    assert 0 < server.ttl(stored) <= 900

    response = api_client.post(
        "/api/v1/auth/token/", {"username": participant.nip, "password": PASSWORD}, REMOTE_ADDR="198.51.100.3"
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 900
