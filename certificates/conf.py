"""App settings with defaults, read at call time so a host project can override them."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Deliveries of one issuing message (retries included) after which it is treated as poison.
    "MAX_DELIVERIES": 12,
    # The sweep re-enqueues completed enrolments without a certificate older than this.
    "SWEEP_GRACE_SECONDS": 30,
    # How many enrolments one sweep enqueues at most.
    "SWEEP_BATCH": 500,
    # Certificate text: who issues it.
    "ISSUER": "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
}


def certificates_setting(name: str) -> Any:
    """Return ``CERTIFICATES_<name>`` from the host settings, or this app's default."""
    return getattr(settings, f"CERTIFICATES_{name}", DEFAULTS[name])
