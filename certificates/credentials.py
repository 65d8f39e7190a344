"""Open Badges 3.0 credentials of certificates: the did:web issuer, VC-JWT signing and verifying, the revocation status list.

A certificate's credential is an ``OpenBadgeCredential`` (W3C VC Data Model 2.0) secured as a
compact JWS (VC-JOSE-COSE: the JWS payload is the credential itself, ``typ`` ``vc+jwt``), signed
with ES256 by a P-256 key whose public half the platform's DID document lists. Nothing here uses
the network: JSON-LD contexts are never fetched and the DID document to verify against is passed in.

Why ES256 (and not EdDSA or Ed25519): the JWS algorithm that Open Badges 3.0 verifiers accept.
The 1EdTech validator (digital-credentials-public-validator, ``ExternalProofProbe``) rejects any
JWT proof whose ``alg`` is not ``RS256`` or ``ES256``; the OB 3.0 specification (section 8.2)
requires ``RS256`` "as a minimum" and warns that other algorithms limit interoperability.
``EdDSA``, which RFC 9864 deprecates for ``Ed25519`` (joserfc warns on it), is accepted by some
JOSE libraries only, and ``Ed25519`` by fewer still. ES256 signs in a fraction of a millisecond
with a small key; an Ed25519 key is still accepted (``alg`` ``Ed25519``) for a host that wants one.

The OB 3.0 JWT claims ``iss`` (= ``issuer.id``), ``jti`` (= ``id``) and ``nbf`` (= ``validFrom``)
are set beside the credential's own properties; ``sub`` is left out because the subject has no
``id`` (only a salted hash of the NIP, which never appears itself).
"""

import base64
import binascii
import functools
import gzip
import hashlib
import json
import os
import secrets
import threading
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

from .codes import code_normalize
from .conf import certificates_setting, key_directory
from .errors import CertificatesError

CONTEXT_VC2 = "https://www.w3.org/ns/credentials/v2"
CONTEXT_OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB3_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"]
TYP = "vc+jwt"
MEDIA_TYPE = "application/vc+jwt"
ALLOWED_ALGORITHMS = frozenset({"ES256", "Ed25519"})
# The Bitstring Status List minimum (and the herd privacy it buys): 16 KiB of bits.
STATUS_LIST_SIZE = 131_072
STATUS_LIST_PATH = "/credentials/status/1"
SIGNING_KEY_FILE = "credentials-signing-key.pem"
MAX_TOKEN_LENGTH = 64 * 1024
DEFAULT_CRITERIA = "Menyelesaikan seluruh modul dan evaluasi pelatihan, serta dinyatakan LULUS."

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class CredentialMalformed(CertificatesError):
    """The text given is no compact JWS at all (the API answers 400)."""

    code = "malformed_credential"
    message = _("This is not a verifiable credential (a compact JWS, VC-JWT).")


@dataclass(frozen=True)
class CredentialSnapshot:
    """What a certificate's credential says, fixed at issue (the lead maps the certificate row here)."""

    holder_name: str
    holder_nip: str
    course_slug: str
    course_title: str
    cohort_name: str
    period_start: date
    period_end: date
    jp: int
    issuer_name: str
    number: str
    code: str
    issued_at: datetime  # aware
    verify_url: str
    course_description: str = ""
    criteria_narrative: str = DEFAULT_CRITERIA


@dataclass(frozen=True)
class VerifiedCredential:
    """The outcome of ``credential_verify``: the claims as sent, whether the signature holds, and why not."""

    claims: dict
    header: dict
    signature_valid: bool
    problem: str | None  # None, "algorithm", "type", "unknown_key", "signature" or "claims"

    @property
    def code(self) -> str | None:
        return credential_code(self.claims)


# --- did:web ---------------------------------------------------------------------------------


def issuer_did(site_url: str) -> str:
    """The platform's ``did:web`` identifier from ``SITE_URL``: the host, an explicit port as
    ``%3A<port>`` (443 is https's own and left out), then each path segment after a ``:``.
    ``http://127.0.0.1:8000`` is ``did:web:127.0.0.1%3A8000``; ``https://example.go.id/gcio`` is
    ``did:web:example.go.id:gcio``, whose document lives at ``/gcio/did.json`` (see ``did_document_path``)."""
    parts = urlsplit(site_url)
    host = parts.hostname
    if not host:
        raise ValueError(f"SITE_URL has no host: {site_url!r}")
    if ":" in host:
        raise ValueError("did:web cannot name a host given as an IPv6 address; use a domain name.")
    identifier = quote(host, safe=".-")
    if parts.port and parts.port != 443:
        identifier += f"%3A{parts.port}"
    segments = [quote(unquote(segment), safe="") for segment in parts.path.split("/") if segment]
    return ":".join(["did", "web", identifier, *segments])


def did_document_path(site_url: str) -> str:
    """Where the DID document must be served: ``/.well-known/did.json``, or ``/<path>/did.json``
    when ``SITE_URL`` has a path (the did:web resolution rule)."""
    path = urlsplit(site_url).path.strip("/")
    return f"/{path}/did.json" if path else "/.well-known/did.json"


def _public(key: PrivateKey | PublicKey) -> PublicKey:
    return key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) else key


def _check_key(key: PrivateKey | PublicKey) -> None:
    public = _public(key)
    if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        return
    if isinstance(public, ed25519.Ed25519PublicKey):
        return
    raise ValueError("A credential key must be an EC P-256 or an Ed25519 key.")


def _algorithm(key: PrivateKey | PublicKey) -> str:
    _check_key(key)
    return "Ed25519" if isinstance(_public(key), ed25519.Ed25519PublicKey) else "ES256"


def _jose_key(key: PrivateKey | PublicKey) -> ECKey | OKPKey:
    # The signing key is loaded once per process (``configured_signing_key``), so its JOSE form is
    # kept rather than made again for every credential; public key objects are not hashable.
    try:
        return _jose_key_kept(key)
    except TypeError:
        return _jose_key_new(key)


@functools.lru_cache(maxsize=32)
def _jose_key_kept(key: PrivateKey) -> ECKey | OKPKey:
    return _jose_key_new(key)


def _jose_key_new(key: PrivateKey | PublicKey) -> ECKey | OKPKey:
    _check_key(key)
    return OKPKey.import_key(key) if isinstance(_public(key), ed25519.Ed25519PublicKey) else ECKey.import_key(key)


def public_jwk(key: PrivateKey | PublicKey) -> dict:
    """The key's public JWK (never ``d``)."""
    return _jose_key(_public(key)).as_dict(private=False)


def key_id(did: str, key: PrivateKey | PublicKey) -> str:
    """The verification method id of ``key`` in ``did``'s document: ``<did>#key-<RFC 7638 thumbprint>``,
    stable for a key, so rotating keys never reuses an id."""
    try:
        thumbprint = _thumbprint_kept(key)
    except TypeError:  # a public key object (not hashable)
        thumbprint = _jose_key(key).thumbprint()
    return f"{did}#key-{thumbprint}"


@functools.lru_cache(maxsize=32)
def _thumbprint_kept(key: PrivateKey) -> str:
    return _jose_key(_public(key)).thumbprint()


def did_document(*, site_url: str, keys: Iterable[PrivateKey | PublicKey]) -> dict:
    """The DID document for ``GET /.well-known/did.json``: one ``JsonWebKey2020`` verification
    method per key (the current one first, then retired ones, so credentials they signed still
    verify), each listed under ``assertionMethod``. Only public key material."""
    did = issuer_did(site_url)
    methods, seen = [], set()
    for key in keys:
        method_id = key_id(did, key)
        if method_id in seen:
            continue
        seen.add(method_id)
        methods.append({"id": method_id, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": public_jwk(key)})
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


# --- Keys ------------------------------------------------------------------------------------


def signing_key_ensure(*, directory: Path) -> Path:
    """The embedded default's signing key (EC P-256, PEM, mode 0600) in ``directory``, created on
    first call and reused after; concurrent first calls agree on one key. Idempotent."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / SIGNING_KEY_FILE
    if path.exists():
        return path
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    temporary = directory / f".{SIGNING_KEY_FILE}.{secrets.token_hex(4)}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # fails if another process created it first: theirs is kept
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path


def key_load(path: Path) -> PrivateKey | PublicKey:
    """A PEM key file: private (PKCS#8 or SEC 1) or public (SubjectPublicKeyInfo), P-256 or Ed25519."""
    data = Path(path).read_bytes()
    if b"PRIVATE KEY" in data:
        key = serialization.load_pem_private_key(data, password=None)
    else:
        key = serialization.load_pem_public_key(data)
    _check_key(key)
    return key


_key_lock = threading.Lock()
_key_cache: dict[tuple, PrivateKey] = {}


def configured_signing_key() -> PrivateKey:
    """The current signing key: ``CREDENTIALS_SIGNING_KEY``, or the one the embedded default
    creates in KEY_DIR. Loaded once per process and again when the file changes."""
    configured = certificates_setting("CREDENTIALS_SIGNING_KEY")
    path = Path(configured) if configured else signing_key_ensure(directory=key_directory())
    cache_key = (str(path), path.stat().st_mtime_ns)
    with _key_lock:
        key = _key_cache.get(cache_key)
        if key is None:
            key = key_load(path)
            if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
                raise ValueError(f"{path} holds a public key; credentials are signed with a private key.")
            _key_cache.clear()
            _key_cache[cache_key] = key
        return key


def configured_verification_keys() -> list[PrivateKey | PublicKey]:
    """The keys the DID document lists: the current one, then ``CREDENTIALS_PREVIOUS_KEYS``."""
    keys: list[PrivateKey | PublicKey] = [configured_signing_key()]
    keys.extend(key_load(Path(path)) for path in certificates_setting("CREDENTIALS_PREVIOUS_KEYS") or ())
    return keys


# --- The credential --------------------------------------------------------------------------


def credential_salt() -> str:
    """A fresh random salt for one credential's identity hash."""
    return secrets.token_hex(16)


def identity_hash(nip: str, salt: str) -> str:
    """OB 3.0 ``IdentityHash``: ``sha256$`` and the hex SHA-256 of the NIP followed by the salt (UTF-8)."""
    return "sha256$" + hashlib.sha256((nip + salt).encode()).hexdigest()


def _instant(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("An aware datetime is needed.")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: date, at: time) -> str:
    """A calendar day's start or end in the platform's time zone, with its offset (``…T00:00:00+08:00``)."""
    return datetime.combine(value, at, tzinfo=timezone.get_default_timezone()).isoformat()


def status_list_url(site_url: str) -> str:
    """The public URL of the revocation status list credential (the lead routes ``STATUS_LIST_PATH``)."""
    return site_url.rstrip("/") + STATUS_LIST_PATH


def achievement_id(site_url: str, course_slug: str) -> str:
    """A stable ``urn:uuid`` for a course's achievement: the same for every credential of the course
    on this platform, and no URL that would have to resolve."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{site_url.rstrip('/')}/courses/{course_slug}"))


def credential_build(snapshot: CredentialSnapshot, *, site_url: str, status_index: int, salt: str) -> dict:
    """The ``OpenBadgeCredential`` of a certificate, unsigned. Pure: no I/O.

    ``id`` is the certificate's public verification URL (``{SITE_URL}/verify/{code}/``): it
    resolves for anyone, to the page that shows the certificate's status, and it names the
    certificate, so ``POST /verify/credential/`` finds it again (``credential_code``). The NIP
    appears only as its salted hash."""
    if not 0 <= status_index < STATUS_LIST_SIZE:
        raise ValueError(f"status_index must be in [0, {STATUS_LIST_SIZE}).")
    did = issuer_did(site_url)
    status_url = status_list_url(site_url)
    description = (
        f"{snapshot.holder_name} telah menyelesaikan {snapshot.course_title} ({snapshot.cohort_name}, "
        f"{snapshot.jp} JP) dan dinyatakan LULUS. Nomor sertifikat {snapshot.number}."
    )
    return {
        "@context": [CONTEXT_VC2, CONTEXT_OB3],
        "id": snapshot.verify_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": did, "type": ["Profile"], "name": snapshot.issuer_name, "url": site_url.rstrip("/")},
        "validFrom": _instant(snapshot.issued_at),
        "name": f"Sertifikat {snapshot.course_title}",
        "description": description,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(snapshot.holder_nip, salt),
                    # OB 3.0's IdentifierTypeEnum has no civil-servant number: the NIP is not the
                    # national identity number (NIK), so the generic "identifier".
                    "identityType": "identifier",
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "activityStartDate": _day(snapshot.period_start, time.min),
            "activityEndDate": _day(snapshot.period_end, time(23, 59, 59)),
            "achievement": {
                "id": achievement_id(site_url, snapshot.course_slug),
                "type": ["Achievement"],
                "achievementType": "CertificateOfCompletion",
                "name": snapshot.course_title,
                "description": snapshot.course_description or snapshot.course_title,
                "criteria": {"narrative": snapshot.criteria_narrative},
                "creditsAvailable": snapshot.jp,
                "inLanguage": "id",
            },
        },
        "credentialSchema": [{"id": OB3_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
        "credentialStatus": {
            "id": f"{status_url}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status_index),
            "statusListCredential": status_url,
        },
    }


def _issuer_id(claims: dict) -> str | None:
    issuer = claims.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _envelope(claims: dict) -> dict:
    """The JWT registered claims OB 3.0 asks for, derived from the credential itself."""
    valid_from = datetime.strptime(claims["validFrom"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return {"iss": _issuer_id(claims), "jti": claims["id"], "nbf": int(valid_from.timestamp())}


def credential_sign(claims: dict, *, key: PrivateKey) -> str:
    """The credential as a compact JWS (VC-JWT): header ``alg`` (ES256 for a P-256 key, Ed25519 for
    an Ed25519 key), ``kid`` (the verification method in the issuer's DID document), ``typ``
    ``vc+jwt``; payload the credential plus ``iss``/``jti``/``nbf``. Pure: no I/O."""
    did = _issuer_id(claims)
    if not did:
        raise ValueError("The credential has no issuer id.")
    header = {"alg": _algorithm(key), "kid": key_id(did, key), "typ": TYP}
    payload = json.dumps({**claims, **_envelope(claims)}, ensure_ascii=False, separators=(",", ":"))
    return jws.serialize_compact(header, payload.encode(), _jose_key(key), algorithms=[header["alg"]])


def _b64_json(segment: str) -> dict:
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(decoded)
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CredentialMalformed() from exc
    if not isinstance(value, dict):
        raise CredentialMalformed()
    return value


def token_claims(token: str) -> dict:
    """The claims (payload) of a compact JWS as they stand, without checking the signature (to show
    a credential of our own). Raises ``CredentialMalformed``."""
    parts = token.strip().split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise CredentialMalformed()
    return _b64_json(parts[1])


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def credential_verify(token: str, *, did_document: dict) -> VerifiedCredential:
    """Check a VC-JWT against ``did_document`` (no network: pass our own).

    Raises ``CredentialMalformed`` when ``token`` is no compact JWS with JSON header and payload.
    Anything else is an answer: ``signature_valid`` is True only when ``alg`` is allowed, ``typ``
    is ``vc+jwt``, ``kid`` names an assertion method of the document whose key fits ``alg``, the
    signature verifies with it, and ``iss``/``jti``/``nbf`` agree with the credential."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise CredentialMalformed()
    token = token.strip()
    parts = token.split(".")
    if len(parts) != 3 or not all(parts) or not all(set(part) <= _B64URL for part in parts):
        raise CredentialMalformed()
    header, claims = _b64_json(parts[0]), _b64_json(parts[1])

    def answer(problem: str | None) -> VerifiedCredential:
        return VerifiedCredential(claims=claims, header=header, signature_valid=problem is None, problem=problem)

    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        return answer("algorithm")
    if header.get("typ") != TYP:
        return answer("type")
    kid = header.get("kid")
    if not isinstance(kid, str):
        return answer("unknown_key")
    methods = {m.get("id"): m for m in did_document.get("verificationMethod", ()) if isinstance(m, dict)}
    method = methods.get(kid) if kid in did_document.get("assertionMethod", ()) else None
    try:
        public = _jose_key_from_jwk(method["publicKeyJwk"]) if method else None
    except (JoseError, KeyError, TypeError, ValueError):
        public = None
    if public is None or _jwk_algorithm(public) != alg:
        return answer("unknown_key")
    try:
        jws.deserialize_compact(token, public, algorithms=[alg])
    except JoseError:
        return answer("signature")
    try:
        if any(claims.get(name) != value for name, value in _envelope(claims).items()):
            return answer("claims")
    except (KeyError, TypeError, ValueError):
        return answer("claims")
    return answer(None)


def _jose_key_from_jwk(value: dict) -> ECKey | OKPKey:
    if value.get("kty") == "EC" and value.get("crv") == "P-256":
        return ECKey.import_key(value)
    if value.get("kty") == "OKP" and value.get("crv") == "Ed25519":
        return OKPKey.import_key(value)
    raise ValueError("Unsupported key")


def _jwk_algorithm(key: ECKey | OKPKey) -> str:
    return "Ed25519" if isinstance(key, OKPKey) else "ES256"


def credential_code(claims: dict) -> str | None:
    """The certificate code a credential of ours names in its ``id`` (``…/verify/<code>/``), stored form."""
    credential_id = claims.get("id") if isinstance(claims, dict) else None
    if not isinstance(credential_id, str):
        return None
    path = urlsplit(credential_id).path.rstrip("/")
    head, _, tail = path.rpartition("/")
    return code_normalize(tail) if head.endswith("/verify") else None


# --- Bitstring Status List -------------------------------------------------------------------


def status_list_encode(revoked_indices: Iterable[int], *, size: int = STATUS_LIST_SIZE) -> str:
    """The ``encodedList`` of a revocation list: ``size`` bits (index 0 the left-most bit of the
    first byte) with the given indices set, GZIP-compressed, multibase base64url (``u``, no padding).
    Deterministic (no time in the GZIP header)."""
    if size < STATUS_LIST_SIZE or size % 8:
        raise ValueError(f"size must be a multiple of 8 and at least {STATUS_LIST_SIZE}.")
    bits = bytearray(size // 8)
    for index in revoked_indices:
        if not 0 <= index < size:
            raise ValueError(f"Status index {index} is outside the list.")
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def status_list_decode(encoded_list: str, *, max_size: int = 16 * STATUS_LIST_SIZE) -> bytes:
    """The bitstring of an ``encodedList`` (inflating at most ``max_size`` bits)."""
    if not encoded_list.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u' prefix).")
    body = encoded_list[1:]
    compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    inflater = zlib.decompressobj(wbits=31)  # GZIP framing
    bits = inflater.decompress(compressed, max_size // 8 + 1)
    if len(bits) > max_size // 8 or not inflater.eof:
        raise ValueError("encodedList is larger than allowed or truncated.")
    return bits


def status_list_is_set(bits: bytes, index: int) -> bool:
    """Whether entry ``index`` is set (revoked) in a decoded bitstring."""
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(*, site_url: str, encoded_list: str, valid_from: datetime) -> dict:
    """The ``BitstringStatusListCredential`` at ``status_list_url``, unsigned (sign it with
    ``credential_sign``, like a certificate's credential)."""
    url = status_list_url(site_url)
    return {
        "@context": [CONTEXT_VC2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did(site_url),
        "validFrom": _instant(valid_from),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
    }


def revoked_indices_from(bits: bytes) -> list[int]:
    """Every set index of a decoded bitstring (for tests and audits)."""
    return [i * 8 + bit for i, byte in enumerate(bits) if byte for bit in range(8) if byte & (0x80 >> bit)]


__all__ = [
    "ALLOWED_ALGORITHMS",
    "CredentialMalformed",
    "CredentialSnapshot",
    "MEDIA_TYPE",
    "STATUS_LIST_SIZE",
    "VerifiedCredential",
    "achievement_id",
    "configured_signing_key",
    "configured_verification_keys",
    "credential_build",
    "credential_code",
    "credential_salt",
    "credential_sign",
    "credential_verify",
    "did_document",
    "did_document_path",
    "identity_hash",
    "issuer_did",
    "key_id",
    "key_load",
    "public_jwk",
    "revoked_indices_from",
    "signing_key_ensure",
    "status_list_credential",
    "status_list_decode",
    "status_list_encode",
    "status_list_is_set",
    "status_list_url",
    "token_claims",
]
