"""Pages of the Open Badges credentials: the issuer's DID document and the revocation status list
(public), and the holder's credential as readable JSON.

The public two are fetched by wallets and verifiers, never by the platform itself, so they carry cache headers
(``Cache-Control`` and an ``ETag`` answered with ``304`` on ``If-None-Match``)."""

import hashlib
import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from courses.conf import site_url

from . import credentials
from .credential_store import credential_ensure, status_list_current
from .selectors import certificate_by_code, certificate_visible_to

DID_MAX_AGE = 300
# A revocation must reach a verifier within a minute: the list is regenerated at once after the
# revocation commits, and caches may keep it for at most this long.
STATUS_LIST_MAX_AGE = 60


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def cached_response(request: HttpRequest, body: bytes, *, content_type: str, max_age: int) -> HttpResponse:
    """``body`` with a strong ETag and public caching; ``304`` when the client already holds it."""
    etag = _etag(body)
    wanted = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
    response = (
        HttpResponseNotModified() if etag in wanted or "*" in wanted else HttpResponse(body, content_type=content_type)
    )
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=max_age)
    response["Access-Control-Allow-Origin"] = "*"  # wallets running in a browser read these too
    return response


@require_safe
def did_document(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/did.json``: the platform's did:web document with every key that signs or
    signed its credentials (public halves only)."""
    document = credentials.did_document(site_url=site_url(), keys=credentials.configured_verification_keys())
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return cached_response(request, body, content_type="application/did+json", max_age=DID_MAX_AGE)


@require_safe
def status_list(request: HttpRequest) -> HttpResponse:
    """The revocation ``BitstringStatusListCredential`` as a VC-JWT (public)."""
    token = status_list_current()
    return cached_response(
        request, token.encode("ascii"), content_type=credentials.MEDIA_TYPE, max_age=STATUS_LIST_MAX_AGE
    )


@login_required
@require_safe
def credential_claims(request: HttpRequest, code: str) -> JsonResponse:
    """The holder's credential as readable JSON (its claims, as signed), for the holder and operators."""
    certificate = certificate_by_code(code)
    if certificate is None or not certificate_visible_to(certificate=certificate, user=request.user):
        raise Http404
    credential = credential_ensure(certificate=certificate)
    if credential is None:
        raise Http404
    response = JsonResponse(
        credentials.token_claims(credential.token), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Cache-Control"] = "private, no-store"
    return response
