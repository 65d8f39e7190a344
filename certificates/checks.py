"""System checks of the certificates app."""

from collections.abc import Iterable

from django.conf import settings
from django.core import checks


def retries_fit_the_visibility_timeout(app_configs: Iterable | None = None, **kwargs) -> list[checks.CheckMessage]:
    """A retry waits in Redis as an unacknowledged message; if its countdown outlives the broker's
    visibility_timeout, Redis hands it to a second worker and the issue runs twice at once."""
    from .tasks import RETRY

    broker = getattr(settings, "CELERY_BROKER_URL", "") or ""
    if not broker.startswith(("redis://", "rediss://")):
        return []
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    timeout = options.get("visibility_timeout", 3600)  # Celery's default
    longest = RETRY["retry_backoff_max"]
    if timeout <= longest * 2:
        return [
            checks.Error(
                f"The broker's visibility_timeout ({timeout} s) must be well above the longest retry countdown "
                f"of the certificate tasks ({longest} s), or Redis redelivers a waiting retry to another worker.",
                hint="Raise CELERY_VISIBILITY_TIMEOUT (default 3600).",
                id="certificates.E001",
            )
        ]
    return []


def the_configured_seal_can_seal(app_configs: Iterable | None = None, **kwargs) -> list[checks.CheckMessage]:
    """A configured CERTIFICATES_SIGNING_P12 that cannot seal stops issuing (nothing is issued
    unsealed): say so at start-up rather than at the first completion."""
    from .sealing import sealing_config_problem

    problem = sealing_config_problem()
    if problem is None:
        return []
    return [
        checks.Error(
            problem,
            hint="Fix CERTIFICATES_SIGNING_P12 / CERTIFICATES_SIGNING_PASSPHRASE, or unset CERTIFICATES_SIGNING_P12 "
            "to seal with the local demo seal (not for production). Certificates are not issued until then.",
            id="certificates.E002",
        )
    ]


checks.register(retries_fit_the_visibility_timeout)
checks.register(the_configured_seal_can_seal)
