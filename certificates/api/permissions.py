"""Permissions and throttles of the certificates API."""

from rest_framework.throttling import ScopedRateThrottle


class VerifyThrottle(ScopedRateThrottle):
    """Per-client limit on verification lookups (rate ``verify`` in DEFAULT_THROTTLE_RATES)."""

    scope_attr = "throttle_scope"

    def get_rate(self):
        from django.conf import settings

        rates = getattr(settings, "REST_FRAMEWORK", {}).get("DEFAULT_THROTTLE_RATES", {})
        return rates.get(self.scope, "60/minute")
