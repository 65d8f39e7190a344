"""Open Badges 3.0 credentials: VC-JWT checked without the signing library, the NIP kept out, key rotation, did:web, the status list."""

import base64
import datetime
import gzip
import hashlib
import json
import os
import stat
import warnings

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from certificates import credentials
from tests.certificates.official import NIP, SITE, credential_snapshot

SNAPSHOT = credential_snapshot()


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64int(segment: str) -> int:
    return int.from_bytes(b64decode(segment), "big")


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def salt() -> str:
    return credentials.credential_salt()


@pytest.fixture(scope="module")
def claims(salt) -> dict:
    return credentials.credential_build(SNAPSHOT, site_url=SITE, status_index=4242, salt=salt)


@pytest.fixture(scope="module")
def token(claims, key) -> str:
    return credentials.credential_sign(claims, key=key)


@pytest.fixture(scope="module")
def document(key) -> dict:
    return credentials.did_document(site_url=SITE, keys=[key])


def verify_with_cryptography(token: str, document: dict) -> bool:
    """Verify the JWS with the DID document's JWK and pyca/cryptography alone (RFC 7515 by hand)."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64decode(header_b64))
    (method,) = [m for m in document["verificationMethod"] if m["id"] == header["kid"]]
    assert header["kid"] in document["assertionMethod"]
    jwk = method["publicKeyJwk"]
    signing_input = f"{header_b64}.{payload_b64}".encode()
    signature = b64decode(signature_b64)
    try:
        if header["alg"] == "ES256":
            assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
            public = ec.EllipticCurvePublicNumbers(b64int(jwk["x"]), b64int(jwk["y"]), ec.SECP256R1()).public_key()
            assert len(signature) == 64
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            assert (header["alg"], jwk["kty"], jwk["crv"]) == ("Ed25519", "OKP", "Ed25519")
            ed25519.Ed25519PublicKey.from_public_bytes(b64decode(jwk["x"])).verify(signature, signing_input)
    except InvalidSignature:
        return False
    return True


def test_a_credential_verifies_with_the_did_documents_key_without_the_library_that_signed_it(token, document, key):
    assert verify_with_cryptography(token, document) is True
    result = credentials.credential_verify(token, did_document=document)
    assert (result.signature_valid, result.problem, result.code) == (True, None, "ABCDEFGHJKMN")
    # The document holds the public key only.
    (method,) = document["verificationMethod"]
    assert "d" not in method["publicKeyJwk"]
    assert b64int(method["publicKeyJwk"]["x"]) == key.public_key().public_numbers().x


def test_the_header_names_the_did_url_of_the_key_es256_and_vc_jwt(token, document):
    header = json.loads(b64decode(token.split(".")[0]))
    assert header == {"alg": "ES256", "kid": document["verificationMethod"][0]["id"], "typ": "vc+jwt"}
    assert header["kid"].startswith("did:web:127.0.0.1%3A8000#key-")


def test_the_payload_is_the_credential_with_every_claim_of_the_contract(token, claims, salt):
    payload = json.loads(b64decode(token.split(".")[1]))
    assert payload == {**claims, "iss": "did:web:127.0.0.1%3A8000", "jti": SNAPSHOT.verify_url, "nbf": 1796203815}
    assert payload["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["id"] == "http://127.0.0.1:8000/verify/ABCD-EFGH-JKMN/"
    assert payload["issuer"] == {
        "id": "did:web:127.0.0.1%3A8000",
        "type": ["Profile"],
        "name": "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
        "url": SITE,
    }
    assert payload["validFrom"] == "2026-12-02T09:30:15Z"
    assert datetime.datetime.fromtimestamp(payload["nbf"], datetime.UTC) == datetime.datetime(
        2026, 12, 2, 9, 30, 15, tzinfo=datetime.UTC
    )
    assert payload["name"] == "Sertifikat Pelatihan Government Chief Information Officer (GCIO)"
    assert isinstance(payload["description"], str) and "Siti Rahmawati" in payload["description"]

    subject = payload["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert "id" not in subject
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityHash": "sha256$" + hashlib.sha256((NIP + salt).encode()).hexdigest(),
            "identityType": "identifier",
            "hashed": True,
            "salt": salt,
        }
    ]
    assert (subject["activityStartDate"], subject["activityEndDate"]) == (
        "2026-01-05T00:00:00+08:00",
        "2026-06-30T23:59:59+08:00",
    )
    achievement = subject["achievement"]
    assert achievement["id"].startswith("urn:uuid:")
    assert achievement["id"] == credentials.achievement_id(SITE, "gcio")
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "CertificateOfCompletion"
    assert achievement["name"] == SNAPSHOT.course_title
    assert achievement["description"] == SNAPSHOT.course_description
    assert isinstance(achievement["criteria"]["narrative"], str) and achievement["criteria"]["narrative"]
    assert achievement["creditsAvailable"] == 20 and isinstance(achievement["creditsAvailable"], int)
    assert not isinstance(achievement["creditsAvailable"], bool)

    assert payload["credentialStatus"] == {
        "id": "http://127.0.0.1:8000/credentials/status/1#4242",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "4242",
        "statusListCredential": "http://127.0.0.1:8000/credentials/status/1",
    }


def test_the_nip_appears_nowhere_not_even_encoded(token, claims, salt):
    header_b64, payload_b64, _signature = token.split(".")
    decoded = b64decode(header_b64) + b64decode(payload_b64)
    assert NIP.encode() not in decoded
    assert NIP not in token and NIP not in json.dumps(claims)
    # Nor base64 of it at any alignment inside the token.
    for prefix in (b"", b"x", b"xy"):
        encoded = base64.urlsafe_b64encode(prefix + NIP.encode()).decode().rstrip("=")
        assert encoded[4:-4] not in token
    # Two credentials of the same holder do not share a hash (the salt is per credential).
    other = credentials.credential_build(SNAPSHOT, site_url=SITE, status_index=1, salt=credentials.credential_salt())
    assert (
        other["credentialSubject"]["identifier"][0]["identityHash"]
        != (claims["credentialSubject"]["identifier"][0]["identityHash"])
    )


def flip(segment: str, position: int) -> str:
    """One base64url character replaced by another (kept decodable)."""
    old = segment[position]
    return segment[:position] + ("A" if old != "A" else "B") + segment[position + 1 :]


@pytest.mark.parametrize("part", [1, 2], ids=["payload", "signature"])
@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_one_character_changed_in_the_payload_or_signature_fails_verification(token, document, part, where):
    parts = token.split(".")
    # The first position from ``where`` on whose change leaves the payload JSON (else it is the
    # malformed case, tested below).
    for position in range(int(len(parts[part]) * where), len(parts[part])):
        changed = [*parts[:part], flip(parts[part], position), *parts[part + 1 :]]
        try:
            json.loads(b64decode(changed[1]))
        except ValueError:
            continue
        break
    assert changed != parts
    tampered = ".".join(changed)
    result = credentials.credential_verify(tampered, did_document=document)
    assert result.signature_valid is False
    assert result.problem == "signature"
    assert verify_with_cryptography(tampered, document) is False


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not a jws",
        "abc.def",
        "a.b.c.d",
        "eyJhbGciOiJFUzI1NiJ9..c2ln",
        "bm90IGpzb24.bm90IGpzb24.c2ln",  # not JSON
        "WzFd.e30.c2ln",  # a JSON array as header
        "e30.e30.c2ln+/",  # not base64url
        "e30.e30." + "A" * 70_000,
        None,
        12345,
    ],
)
def test_what_is_no_compact_jws_is_a_domain_error(value, document):
    with pytest.raises(credentials.CredentialMalformed) as raised:
        credentials.credential_verify(value, did_document=document)
    assert raised.value.code == "malformed_credential"


def unsigned(header: dict, payload: dict) -> str:
    def b64(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{b64(header)}.{b64(payload)}.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ({"alg": "none", "typ": "vc+jwt"}, "algorithm"),
        ({"alg": "HS256", "typ": "vc+jwt"}, "algorithm"),
        ({"alg": ["ES256"], "typ": "vc+jwt"}, "algorithm"),
        ({"alg": "ES256", "typ": "JWT"}, "type"),
        ({"alg": "ES256", "typ": "vc+jwt", "kid": "did:web:elsewhere#key-1"}, "unknown_key"),
        ({"alg": "ES256", "typ": "vc+jwt", "kid": ["x"]}, "unknown_key"),
        ({"alg": "ES256", "typ": "vc+jwt"}, "unknown_key"),
    ],
)
def test_a_jws_that_is_not_ours_is_answered_not_raised(header, problem, document, claims):
    result = credentials.credential_verify(unsigned(header, claims), did_document=document)
    assert (result.signature_valid, result.problem) == (False, problem)
    assert result.claims == claims  # the claims come back so the caller can say what it claims to be


def test_a_key_the_did_document_does_not_list_for_assertion_does_not_verify(token, document):
    not_for_assertion = {**document, "assertionMethod": []}
    result = credentials.credential_verify(token, did_document=not_for_assertion)
    assert (result.signature_valid, result.problem) == (False, "unknown_key")


def test_an_ed25519_key_for_an_es256_kid_is_refused(claims, key):
    ed_key = ed25519.Ed25519PrivateKey.generate()
    token = credentials.credential_sign(claims, key=ed_key)
    header = json.loads(b64decode(token.split(".")[0]))
    # The DID document lists the Ed25519 key under the kid, but the token claims ES256.
    forged_header = base64.urlsafe_b64encode(json.dumps({**header, "alg": "ES256"}).encode()).decode().rstrip("=")
    forged = ".".join([forged_header, *token.split(".")[1:]])
    document = credentials.did_document(site_url=SITE, keys=[ed_key])
    assert credentials.credential_verify(forged, did_document=document).problem == "unknown_key"


def test_an_ed25519_key_signs_with_alg_ed25519_and_verifies(claims):
    ed_key = ed25519.Ed25519PrivateKey.generate()
    token = credentials.credential_sign(claims, key=ed_key)
    document = credentials.did_document(site_url=SITE, keys=[ed_key])
    assert json.loads(b64decode(token.split(".")[0]))["alg"] == "Ed25519"
    assert verify_with_cryptography(token, document) is True
    assert credentials.credential_verify(token, did_document=document).signature_valid is True


def test_envelope_claims_that_disagree_with_the_credential_are_not_valid(claims, key, document):
    changed = {**claims, "validFrom": "2027-01-01T00:00:00Z"}
    token = credentials.credential_sign(changed, key=key)
    parts = token.split(".")
    payload = json.loads(b64decode(parts[1]))
    payload["validFrom"] = "2020-01-01T00:00:00Z"  # now nbf says otherwise: re-signed by us, still wrong
    resigned = credentials.jws.serialize_compact(
        json.loads(b64decode(parts[0])), json.dumps(payload).encode(), credentials._jose_key(key), algorithms=["ES256"]
    )
    assert credentials.credential_verify(resigned, did_document=document).problem == "claims"


def test_signing_and_verifying_raise_no_warning(claims, key, document):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        token = credentials.credential_sign(claims, key=key)
        assert credentials.credential_verify(token, did_document=document).signature_valid


# --- Keys and rotation -----------------------------------------------------------------------


def write_pem(path, key, *, public=False) -> str:
    if public:
        data = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        data = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    path.write_bytes(data)
    return str(path)


def test_a_credential_signed_by_a_retired_key_verifies_once_the_did_document_lists_it(settings, tmp_path, claims):
    old, new = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    old_token = credentials.credential_sign(claims, key=old)

    settings.CERTIFICATES_CREDENTIALS_SIGNING_KEY = write_pem(tmp_path / "new.pem", new)
    settings.CERTIFICATES_CREDENTIALS_PREVIOUS_KEYS = []
    only_new = credentials.did_document(site_url=SITE, keys=credentials.configured_verification_keys())
    assert credentials.credential_verify(old_token, did_document=only_new).problem == "unknown_key"

    settings.CERTIFICATES_CREDENTIALS_PREVIOUS_KEYS = [write_pem(tmp_path / "old.pub.pem", old, public=True)]
    both = credentials.did_document(site_url=SITE, keys=credentials.configured_verification_keys())
    assert [m["id"] for m in both["verificationMethod"]] == [
        credentials.key_id("did:web:127.0.0.1%3A8000", new),
        credentials.key_id("did:web:127.0.0.1%3A8000", old),
    ]
    assert both["assertionMethod"] == [m["id"] for m in both["verificationMethod"]]
    assert credentials.credential_verify(old_token, did_document=both).signature_valid is True
    new_token = credentials.credential_sign(claims, key=credentials.configured_signing_key())
    assert credentials.credential_verify(new_token, did_document=both).signature_valid is True
    assert verify_with_cryptography(old_token, both) and verify_with_cryptography(new_token, both)


def test_the_did_document_lists_a_key_once():
    key = ec.generate_private_key(ec.SECP256R1())
    document = credentials.did_document(site_url=SITE, keys=[key, key.public_key()])
    assert len(document["verificationMethod"]) == 1
    assert document["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"]
    assert document["id"] == "did:web:127.0.0.1%3A8000"
    assert document["verificationMethod"][0]["type"] == "JsonWebKey2020"
    assert document["verificationMethod"][0]["controller"] == "did:web:127.0.0.1%3A8000"


def test_the_signing_key_is_created_once_private_and_reused(settings, tmp_path):
    directory = tmp_path / "keys"
    first = credentials.signing_key_ensure(directory=directory)
    content = first.read_bytes()
    assert stat.S_IMODE(os.stat(first).st_mode) == 0o600
    second = credentials.signing_key_ensure(directory=directory)
    assert second == first and second.read_bytes() == content
    assert [p.name for p in directory.iterdir()] == [credentials.SIGNING_KEY_FILE]
    key = credentials.key_load(first)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)

    settings.CERTIFICATES_CREDENTIALS_SIGNING_KEY = ""
    settings.CERTIFICATES_KEY_DIR = str(directory)
    configured = credentials.configured_signing_key()
    assert configured.private_numbers() == key.private_numbers()
    assert credentials.configured_signing_key() is configured  # loaded once


def test_other_key_types_are_refused(tmp_path):
    path = write_pem(tmp_path / "p384.pem", ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(ValueError, match="P-256 or an Ed25519"):
        credentials.key_load(path)


# --- did:web ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site_url", "did", "path"),
    [
        ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000", "/.well-known/did.json"),
        ("https://gcio.kaltimprov.go.id", "did:web:gcio.kaltimprov.go.id", "/.well-known/did.json"),
        ("https://gcio.kaltimprov.go.id/", "did:web:gcio.kaltimprov.go.id", "/.well-known/did.json"),
        ("https://GCIO.Kaltimprov.go.id:443", "did:web:gcio.kaltimprov.go.id", "/.well-known/did.json"),
        ("https://diskominfo.go.id/gcio", "did:web:diskominfo.go.id:gcio", "/gcio/did.json"),
        ("https://diskominfo.go.id:8443/lms/gcio/", "did:web:diskominfo.go.id%3A8443:lms:gcio", "/lms/gcio/did.json"),
    ],
)
def test_did_web_follows_the_site_url(site_url, did, path):
    assert credentials.issuer_did(site_url) == did
    assert credentials.did_document_path(site_url) == path


def test_did_web_refuses_a_url_without_a_host_or_with_an_ipv6_literal():
    for site_url in ("/relative", "http://[::1]:8000"):
        with pytest.raises(ValueError):
            credentials.issuer_did(site_url)


# --- Status list -----------------------------------------------------------------------------


def test_the_status_list_sets_exactly_the_given_bits_left_most_first():
    revoked = [0, 7, 8, 4242, 131_071]
    encoded = credentials.status_list_encode(revoked)
    assert encoded.startswith("u") and "=" not in encoded
    assert set(encoded[1:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(encoded) < 400  # 16 KiB of mostly zeros compresses to a few hundred bytes

    raw = gzip.decompress(b64decode(encoded[1:]))  # plain GZIP, as any verifier reads it
    assert len(raw) * 8 == 131_072
    assert raw[0] == 0b1000_0001 and raw[1] == 0b1000_0000 and raw[-1] == 0b0000_0001
    bits = credentials.status_list_decode(encoded)
    assert bits == raw
    assert credentials.revoked_indices_from(bits) == revoked
    assert [credentials.status_list_is_set(bits, i) for i in (0, 1, 4242, 4243)] == [True, False, True, False]


def test_an_empty_status_list_is_all_zeros_and_deterministic():
    encoded = credentials.status_list_encode([])
    assert encoded == credentials.status_list_encode([])
    assert credentials.revoked_indices_from(credentials.status_list_decode(encoded)) == []


def test_the_status_list_refuses_indices_outside_it_and_short_lists():
    with pytest.raises(ValueError):
        credentials.status_list_encode([131_072])
    with pytest.raises(ValueError):
        credentials.status_list_encode([-1])
    with pytest.raises(ValueError):
        credentials.status_list_encode([], size=1024)
    with pytest.raises(ValueError):
        credentials.credential_build(SNAPSHOT, site_url=SITE, status_index=131_072, salt="s")


def test_decoding_a_status_list_is_bounded():
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(64 * 2**20))).decode().rstrip("=")
    with pytest.raises(ValueError, match="larger than allowed"):
        credentials.status_list_decode(bomb)


def test_the_status_list_credential_is_a_signed_bitstring_status_list_credential(key, document):
    encoded = credentials.status_list_encode([4242])
    issued = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC)
    status = credentials.status_list_credential(site_url=SITE, encoded_list=encoded, valid_from=issued)
    assert status == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "http://127.0.0.1:8000/credentials/status/1",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:web:127.0.0.1%3A8000",
        "validFrom": "2026-12-02T10:00:00Z",
        "credentialSubject": {
            "id": "http://127.0.0.1:8000/credentials/status/1#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    }
    token = credentials.credential_sign(status, key=key)
    assert verify_with_cryptography(token, document)
    assert credentials.credential_verify(token, did_document=document).signature_valid


def test_the_code_is_read_back_from_a_credential_of_ours_only(claims):
    assert credentials.credential_code(claims) == "ABCDEFGHJKMN"
    assert credentials.credential_code({**claims, "id": "urn:uuid:1234"}) is None
    assert credentials.credential_code({**claims, "id": "https://elsewhere.example/badges/ABCD-EFGH-JKMN/"}) is None
    assert credentials.credential_code({}) is None
