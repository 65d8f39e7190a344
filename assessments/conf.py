"""App settings with defaults, read at call time so a host project can override them."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Seconds after ``expires_at`` during which saves and submits are still accepted (network slack).
    "GRACE_SECONDS": 30,
}


def assessments_setting(name: str) -> Any:
    """Return ``ASSESSMENTS_<name>`` from the host settings, or this app's default."""
    return getattr(settings, f"ASSESSMENTS_{name}", DEFAULTS[name])
