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


def credential_keys_load(app_configs: Iterable | None = None, **kwargs) -> list[checks.CheckMessage]:
    """A configured credential key that cannot be read would stop every certificate from being issued
    (the credential is signed in the certificate's transaction): say so at start-up instead."""
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    from .conf import certificates_setting
    from .credentials import key_load

    problems = []
    signing = certificates_setting("CREDENTIALS_SIGNING_KEY")
    paths = [("CREDENTIALS_SIGNING_KEY", signing)] if signing else []
    paths += [("CREDENTIALS_PREVIOUS_KEYS", path) for path in certificates_setting("CREDENTIALS_PREVIOUS_KEYS") or ()]
    for name, path in paths:
        try:
            key = key_load(Path(path))
        except (OSError, ValueError, TypeError) as exc:
            problems.append(
                checks.Error(
                    f"{name}: {path} is no readable EC P-256 or Ed25519 PEM key ({exc}).",
                    hint="Give the path of a PEM key file, or leave CREDENTIALS_SIGNING_KEY unset to use the "
                    "key the platform creates.",
                    id="certificates.E003",
                )
            )
            continue
        if name == "CREDENTIALS_SIGNING_KEY" and not isinstance(
            key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
        ):
            problems.append(
                checks.Error(
                    f"CREDENTIALS_SIGNING_KEY: {path} holds a public key; credentials are signed with a private key.",
                    id="certificates.E003",
                )
            )
    return problems


checks.register(credential_keys_load)
