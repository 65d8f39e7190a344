"""App settings with defaults, read at call time so a host project can override them."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Deliveries in a row that did not finish (retries included) after which the message is
    # treated as poison and set aside for an operator.
    "MAX_DELIVERIES": 12,
    # The sweep re-enqueues completed enrolments without a certificate older than this.
    "SWEEP_GRACE_SECONDS": 30,
    # … and not again within this while the message may still be queued (a worker outage).
    "SWEEP_REENQUEUE_SECONDS": 600,
    # How many enrolments one sweep enqueues at most.
    "SWEEP_BATCH": 500,
    # Certificate text: who issues it.
    "ISSUER": "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
}


def certificates_setting(name: str) -> Any:
    """Return ``CERTIFICATES_<name>`` from the host settings, or this app's default."""
    return getattr(settings, f"CERTIFICATES_{name}", DEFAULTS[name])
