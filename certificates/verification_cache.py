"""Public verification's answer per code, kept in the shared cache and forgotten whenever it changes.

What a certificate says is fixed at issue; what verification of its code answers changes only when
its sealed PDF is stored (``sealed_by``), when it is revoked, and when a replacement is issued for it
(``replaced_by``). The services making those changes call ``verification_forget``, and every entry
lives at most ``CERTIFICATES_VERIFY_CACHE_SECONDS`` anyway (the safety net for a change made behind
the services' back, or a forget lost to a cache outage).

Forgetting a revoked (or replaced) certificate's answer writes a short-lived marker rather than
deleting it, and entries are only ever *added* (``cache.add``), never overwritten: a request that
read the database just before the revocation committed cannot put its "valid" back afterwards. The
marker is written when the change is made and again once it commits, so neither a concurrent
request nor a long transaction leaves a stale entry. The cache must be shared by every web process
(Redis in a deployment of several); a per-process cache would forget only in the revoking one.

Unknown codes are never cached: anyone may ask for any number of them, and they must not be able
to fill the cache (the throttle bounds what they cost the database, one indexed lookup each).
"""

import logging
from http import HTTPStatus
from typing import Any, NamedTuple

from django.core.cache import caches
from django.db import transaction
from rest_framework.renderers import JSONRenderer

from .codes import code_normalize
from .conf import certificates_setting
from .selectors import certificate_verification, verification_payload

logger = logging.getLogger(__name__)

# How long a forgotten code is kept out of the cache: far longer than any request takes between
# reading the database and adding what it read.
FORGOTTEN_SECONDS = 30
_FORGOTTEN = "forgotten"


class Verification(NamedTuple):
    """One code's verification answer: its HTTP status, the body as the API sends it, and for the page
    the body as data and the signing official's position."""

    status: int
    content: bytes
    body: dict[str, Any]
    signatory_position: str


def _verification_key(code: str) -> str:
    return f"certificates:verify:{code}"


def _cache():
    return caches[certificates_setting("VERIFY_CACHE")]


def _built(code: str | None) -> Verification:
    """The answer from the database: one indexed lookup (and the replacement of a revoked certificate)."""
    certificate = certificate_verification(code) if code else None
    body, status = verification_payload(certificate)
    return Verification(
        status=int(status),
        content=JSONRenderer().render(body),
        body=body,
        signatory_position=getattr(certificate, "signatory_position", ""),
    )


_UNREAD = object()


def verification_cache_key(text: str) -> str | None:
    """Where the answer for a typed code is kept when that is the default cache (the one the throttle
    counts in, so the lean view reads both in one round trip); None otherwise, or for a malformed code."""
    code = code_normalize(text)
    if (
        code is None
        or certificates_setting("VERIFY_CACHE") != "default"
        or not certificates_setting("VERIFY_CACHE_SECONDS")
    ):
        return None
    return _verification_key(code)


def code_verification(text: str, *, cached: Any = _UNREAD) -> Verification:
    """What verification of a typed or scanned code answers (``verification_payload``), from the shared
    cache when it holds the code's answer; otherwise from the database, then added to the cache if the
    code names a certificate. No query on a cache hit; the cache is left alone for a malformed code.
    ``cached``: what the cache holds under ``verification_cache_key``, when the caller read it already."""
    code = code_normalize(text)
    seconds = certificates_setting("VERIFY_CACHE_SECONDS")
    if code is None or not seconds:
        return _built(code)
    key = _verification_key(code)
    entry = _cache().get(key) if cached is _UNREAD else cached
    if isinstance(entry, Verification):
        return entry
    built = _built(code)
    if built.status == HTTPStatus.OK and entry != _FORGOTTEN:
        _cache().add(key, built, seconds)
    return built


def _forget_now(codes: tuple[str, ...], hold: bool) -> None:
    keys = [_verification_key(code) for code in codes]
    try:
        if hold:
            _cache().set_many(dict.fromkeys(keys, _FORGOTTEN), FORGOTTEN_SECONDS)
        else:
            _cache().delete_many(keys)
    except Exception:  # noqa: BLE001 - a cache outage must not undo a revocation; the entries expire
        logger.exception("the cached verification of %s could not be dropped: it expires on its own", codes)


def verification_forget(*codes: str, hold: bool = True) -> None:
    """What verification of these (stored) codes answers is changing in the current transaction: drop
    their cached answers now and again once it commits (at once outside a transaction). ``hold`` keeps
    them out of the cache for FORGOTTEN_SECONDS, so that no request that read the database before the
    commit can add the old answer back: a revocation must hold; a detail added to a certificate that
    stays valid (its seal) may simply be dropped. Idempotent; a cache outage is logged, never raised
    (the entries expire within VERIFY_CACHE_SECONDS)."""
    if not codes or not certificates_setting("VERIFY_CACHE_SECONDS"):
        return
    _forget_now(codes, hold)
    transaction.on_commit(lambda: _forget_now(codes, hold))
