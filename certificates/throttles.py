"""Throttles of public verification, for the API and the pages alike."""

from rest_framework.throttling import ScopedRateThrottle


class VerifyThrottle(ScopedRateThrottle):
    """Per-client limit on verification lookups (rate ``verify`` in DEFAULT_THROTTLE_RATES).

    A fixed-window counter instead of DRF's sliding log: one atomic cache operation per request
    whatever the rate, where the log reads and rewrites up to a whole window of timestamps each
    time (tens of thousands for an office behind one address with a raised limit). The price is
    that a client may get up to twice the rate across a window boundary, which still stops anyone
    enumerating codes.
    """

    scope_attr = "throttle_scope"

    def get_rate(self):
        from django.conf import settings

        rates = getattr(settings, "REST_FRAMEWORK", {}).get("DEFAULT_THROTTLE_RATES", {})
        return rates.get(self.scope, "60/minute")

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True
        window = int(self.timer() // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{self.get_cache_key(request, view)}_{window}"
        if self.cache.add(key, 1, self.duration + 1):
            count = 1
        else:
            try:
                count = self.cache.incr(key)
            except ValueError:  # the key expired between add() and incr()
                self.cache.set(key, 1, self.duration + 1)
                count = 1
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, self.window_ends - self.timer())
