"""Throttles of public verification, for the API and the pages alike."""

import os
import threading
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCacheClient
from redis.connection import ConnectionPool
from rest_framework.throttling import ScopedRateThrottle

# INCR the count (expiring with its window) and GET the optional second key, in one round trip.
_COUNT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if KEYS[2] then return {count, redis.call('GET', KEYS[2])} end
return {count}
"""
_count_script: Any = None


def _count(client, keys: list[str], timeout: int) -> list:
    """Run the counting script with this redis-py client (EVALSHA; loaded again if Redis lost it)."""
    global _count_script
    if _count_script is None:
        _count_script = client.register_script(_COUNT_LUA)
    counted = _count_on_own_connection(client, keys, timeout)
    if counted is not None:
        return counted
    return _count_script(keys=keys, args=[timeout], client=client)


_own = threading.local()


def _own_connection(pool: ConnectionPool):
    """This thread's own connection to ``pool``'s server, made with the pool's settings but outside it
    (so a thread that ends takes its connection with it), and made again in a forked process."""
    held = getattr(_own, "held", None)
    if held is None or held[0] is not pool or held[1] != os.getpid():
        held = _own.held = (pool, os.getpid(), pool.connection_class(**pool.connection_kwargs))
    return held[2]


def _count_on_own_connection(client, keys: list[str], timeout: int) -> list | None:
    """The script's answer sent and read on this thread's own connection, or None for the caller to
    take redis-py's command path (which loads the script Redis lost, and reconnects and retries).

    A request's one round trip is the busiest Redis command of the site: redis-py's path around it
    (taking and returning a pooled connection, polling its socket, the observability records, the
    retry wrapper) costs twice the round trip itself. Only a plain pool takes this path (no
    client-side caching, no Sentinel or cluster). After a lost connection the fallback repeats the
    command, as redis-py's own retry does: a count may then be one too high, never too low."""
    pool = client.connection_pool
    if type(pool) is not ConnectionPool or pool.cache is not None:
        return None
    connection = _own_connection(pool)
    try:
        packed = connection.pack_command("EVALSHA", _count_script.sha, len(keys), *keys, timeout)
        connection.send_packed_command(packed, check_health=False)
        return connection.read_response()
    except Exception:  # noqa: BLE001 - NOSCRIPT, a lost or timed-out connection: redis-py's path
        connection.disconnect()
        return None


class VerifyThrottle(ScopedRateThrottle):
    """Per-client limit on verification lookups (rate ``verify`` in DEFAULT_THROTTLE_RATES).

    A fixed-window counter instead of DRF's sliding log: one atomic cache operation per request
    whatever the rate (one round trip on Redis), where the log reads and rewrites up to a whole
    window of timestamps each time (tens of thousands for an office behind one address with a
    raised limit). The price is that a client may get up to twice the rate across a window
    boundary, which still stops anyone enumerating codes.
    """

    scope_attr = "throttle_scope"

    def get_rate(self):
        from django.conf import settings

        rates = getattr(settings, "REST_FRAMEWORK", {}).get("DEFAULT_THROTTLE_RATES", {})
        return rates.get(self.scope, "60/minute")

    def allow_request(self, request, view) -> bool:
        return self.allow_request_reading(request, view)[0]

    def allow_request_reading(self, request, view, read: str | None = None) -> tuple[bool, Any]:
        """``allow_request``, and the value the throttle's cache holds under ``read`` (None if absent),
        read with the count: one round trip for both on Redis."""
        self.scope = getattr(view, self.scope_attr, None)
        self.rate = self.get_rate() if self.scope else None
        if self.rate is not None:
            self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True, self.cache.get(read) if read else None
        window = int(self.timer() // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{self.get_cache_key(request, view)}_{window}"
        count, value = self._count(key, self.duration + 1, read)
        return count <= self.num_requests, value

    def _count(self, key: str, timeout: int, read: str | None) -> tuple[int, Any]:
        """Count one request under ``key`` (kept ``timeout`` seconds); the count and the value under ``read``."""
        # The cache itself rather than the default cache's proxy, which looks it up on every attribute.
        cache = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        client = getattr(cache, "_cache", None)
        if isinstance(client, RedisCacheClient):
            # Redis: count, set the expiry and read in one command (the generic calls below take three
            # round trips). Django's Redis serializer stores integers as they are: the cache API reads the count.
            # make_key: validation only warns about keys memcached could not store; this is Redis.
            keys = [cache.make_key(key)]
            if read:
                keys.append(cache.make_key(read))
            count, *raw = _count(client.get_client(keys[0], write=True), keys, timeout)
            return count, client._serializer.loads(raw[0]) if raw and raw[0] is not None else None
        value = cache.get(read) if read else None
        if cache.add(key, 1, timeout):
            return 1, value
        try:
            return cache.incr(key), value
        except ValueError:  # the key expired between add() and incr()
            cache.set(key, 1, timeout)
            return 1, value

    def wait(self) -> float:
        return max(0.0, self.window_ends - self.timer())
