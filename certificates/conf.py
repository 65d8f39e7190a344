"""App settings with defaults, read at call time so a host project can override them."""

from pathlib import Path
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
    # How many completed enrolments one delivery of the issuing task issues at most, its own and
    # those completed without a certificate whose messages are still queued.
    "ISSUE_BATCH": 50,
    # Completions arriving while an issuing task is queued (and not yet started) add no message of
    # their own, for at most this long after it was queued (``IssueQueue``). 0: one message each.
    "ISSUE_QUEUE_SECONDS": 10,
    # How many enrolments one sweep enqueues at most.
    "SWEEP_BATCH": 500,
    # The number prefix of a course without certificate settings (one created by hand rather than
    # loaded from a curriculum folder, whose course.yaml names its ``certificate_prefix``).
    "NUMBER_PREFIX": "SERTIFIKAT",
    # The official certificate's defaults, for a course whose settings do not say otherwise (its
    # ``course.yaml`` ``certificate:`` block, or the admin): who issues it, its title, where it is
    # issued and who signs it. The issuer's logo has no default: the PDF then shows a neutral text
    # mark (the issuer's initials in a ring), never a coat of arms.
    "ISSUER": "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
    "TITLE": "SERTIFIKAT",
    "PLACE": "Samarinda",
    "SIGNATORY_POSITION": "Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
    "SIGNATORY_NAME": "",
    "SIGNATORY_NIP": "",
    "SIGNATORY_RANK": "",
    # The electronic seal: a PKCS#12 file with the issuing body's certificate and key, and its
    # passphrase. Unset: a local self-signed demo seal is created once in KEY_DIR.
    "SIGNING_P12": "",
    "SIGNING_PASSPHRASE": "",
    # RFC 3161 time-stamping authority for the seal; unset: no timestamp (the signing time is the
    # signer's own claim).
    "TSA_URL": "",
    # Certificates (PEM or DER paths) of earlier seals, so documents sealed before a key change
    # still verify as ours.
    "SEAL_PREVIOUS_CERTIFICATES": [],
    # Where the embedded default keeps the keys it creates (demo seal, credential signing key).
    # Unset: a "keys" folder beside MEDIA_ROOT, never inside it (media may be served).
    "KEY_DIR": "",
    # Document verification parses an uploaded PDF in a separate process with these bounds.
    "INSPECT_TIMEOUT_SECONDS": 10,
    "INSPECT_MEMORY_MB": 512,
    # Open Badges credentials: the signing key (PEM; unset: one is created in KEY_DIR) and retired
    # keys (PEM paths, public or private) that the DID document keeps listing.
    "CREDENTIALS_SIGNING_KEY": "",
    "CREDENTIALS_PREVIOUS_KEYS": [],
    # Public verification's answers are kept this long in the cache named VERIFY_CACHE (which must be
    # shared by every web process, e.g. Redis, when there are several); the services that change an
    # answer drop it when they commit, so this only bounds a change made behind their back. 0: no cache.
    "VERIFY_CACHE_SECONDS": 60,
    "VERIFY_CACHE": "default",
}


# The periodic tasks a host's Celery beat must run (courses.W002 warns when one is missing): the
# sweep issues the certificates whose message was lost; the status list publication is the safety
# net of revocations.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "certificates-sweep": {"task": "certificates.tasks.certificates_sweep_task", "schedule": 60.0},
    # The revocation list is republished right after each revocation; this catches up when that
    # message was lost (it re-signs only when a bit changed).
    "certificates-status-list": {"task": "certificates.tasks.status_list_publish_task", "schedule": 60.0},
}


def certificates_setting(name: str) -> Any:
    """Return ``CERTIFICATES_<name>`` from the host settings, or this app's default."""
    return getattr(settings, f"CERTIFICATES_{name}", DEFAULTS[name])


def key_directory() -> Path:
    """Where keys created by the embedded default live: ``KEY_DIR``, or ``keys`` beside MEDIA_ROOT."""
    configured = certificates_setting("KEY_DIR")
    if configured:
        return Path(configured)
    return Path(settings.MEDIA_ROOT).resolve().parent / "keys"
