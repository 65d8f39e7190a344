"""Credentials wired into the platform: the did:web document, a credential signed at issue with a
gap-free status index, the holder's download, the status list after a revocation, credential
verification. Signatures are checked with jwcrypto, independent of the signing code (joserfc)."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import transaction
from jwcrypto import jwk, jws

from certificates import credentials
from certificates.codes import code_display
from certificates.credential_store import _next_status_index
from certificates.models import Certificate, Credential, StatusListCounter
from tests.factories import CohortFactory, EnrollmentFactory

from .conftest import complete

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"
DID = "did:web:127.0.0.1%3A8000"
NIP = "198503302010011002"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def certificate(completed):
    return Certificate.objects.select_related("credential").get(enrollment=completed)


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def did_document(client) -> dict:
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    return json.loads(response.content)


def verify_independently(token: str, document: dict) -> dict:
    """The payload of ``token`` if its signature verifies with the DID document's key named by ``kid``
    (jwcrypto, not the signing library); raises otherwise."""
    header = json.loads(b64decode(token.split(".")[0]))
    assert header["kid"] in document["assertionMethod"]
    (method,) = [m for m in document["verificationMethod"] if m["id"] == header["kid"]]
    key = jwk.JWK(**method["publicKeyJwk"])
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(key, alg=header["alg"])
    return json.loads(signed.payload)


def issue(capture_on_commit, *, cohort, **fields) -> Certificate:
    enrollment = EnrollmentFactory(cohort=cohort, **fields)
    with capture_on_commit(execute=True):
        complete(enrollment)
    return Certificate.objects.get(enrollment=enrollment)


# --- Issuer identity -------------------------------------------------------------------------


def test_the_did_document_is_public_cached_and_holds_only_the_public_key(client):
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/did+json"
    assert "public" in response["Cache-Control"] and "max-age=" in response["Cache-Control"]
    document = json.loads(response.content)
    assert document["id"] == DID
    (method,) = document["verificationMethod"]
    assert method["id"].startswith(DID + "#key-") and method["controller"] == DID
    assert document["assertionMethod"] == [method["id"]]
    assert set(method["publicKeyJwk"]) == {"kty", "crv", "x", "y"}  # no "d"
    # The same document again: 304 for a client that holds it.
    again = client.get("/.well-known/did.json", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again["ETag"] == response["ETag"]
    assert client.get("/.well-known/did.json", HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_the_did_follows_site_url_and_is_also_served_below_a_path(client, settings):
    settings.SITE_URL = "https://pelatihan.kaltimprov.go.id:8443"
    assert did_document(client)["id"] == "did:web:pelatihan.kaltimprov.go.id%3A8443"
    assert json.loads(client.get("/did.json").content)["id"] == "did:web:pelatihan.kaltimprov.go.id%3A8443"


def test_a_configured_key_and_retired_keys_are_listed(client, settings, tmp_path):
    def pem(path, key, private=True):
        if private:
            data = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        else:
            data = key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        path.write_bytes(data)
        return str(path)

    current, retired = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    settings.CERTIFICATES_CREDENTIALS_SIGNING_KEY = pem(tmp_path / "current.pem", current)
    settings.CERTIFICATES_CREDENTIALS_PREVIOUS_KEYS = [pem(tmp_path / "old.pem", retired, private=False)]
    ids = [m["id"] for m in did_document(client)["verificationMethod"]]
    assert ids == [credentials.key_id(DID, current), credentials.key_id(DID, retired)]


# --- The credential at issue -----------------------------------------------------------------


def test_a_credential_is_signed_at_issue_and_verifies_with_the_published_key(client, certificate):
    stored = certificate.credential
    payload = verify_independently(stored.token, did_document(client))
    header = json.loads(b64decode(stored.token.split(".")[0]))
    assert header["alg"] == "ES256" and header["typ"] == "vc+jwt" and header["kid"] == stored.key_id
    assert payload["id"] == f"{SITE}/verify/{code_display(certificate.code)}/"
    assert payload["credentialStatus"]["statusListIndex"] == str(stored.status_index)


def test_every_claim_of_the_contract_is_there_with_its_type(client, certificate):
    claims = verify_independently(certificate.credential.token, did_document(client))
    assert claims["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(claims["type"])
    assert isinstance(claims["id"], str) and claims["id"]
    assert claims["issuer"]["id"] == DID
    assert isinstance(claims["issuer"]["name"], str) and claims["issuer"]["name"]
    assert isinstance(claims["validFrom"], str) and claims["validFrom"].endswith("Z")
    assert claims["name"] == "Sertifikat Pelatihan GCIO"
    subject = claims["credentialSubject"]
    assert "AchievementSubject" in subject["type"]
    (identity,) = subject["identifier"]
    assert identity["type"] == "IdentityObject"
    assert identity["hashed"] is True
    assert identity["identityHash"] == credentials.identity_hash(NIP, certificate.credential.salt)
    assert identity["identityHash"].startswith("sha256$")
    achievement = subject["achievement"]
    assert isinstance(achievement["id"], str) and achievement["id"]
    assert "Achievement" in achievement["type"]
    assert achievement["name"] == "Pelatihan GCIO"
    assert isinstance(achievement["description"], str) and achievement["description"]
    assert isinstance(achievement["criteria"]["narrative"], str) and achievement["criteria"]["narrative"]
    assert isinstance(achievement["creditsAvailable"], int)
    assert subject["activityStartDate"].startswith("2026-01-05")
    status = claims["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert status["statusListIndex"] == str(certificate.credential.status_index)
    assert status["statusListCredential"] == f"{SITE}/credentials/status/1"


def test_the_nip_appears_nowhere_in_the_credential_nor_its_header(certificate):
    token = certificate.credential.token
    header_b64, payload_b64, _ = token.split(".")
    for text in (token, b64decode(header_b64).decode(), b64decode(payload_b64).decode()):
        assert NIP not in text
    assert NIP not in json.dumps(Credential.objects.filter(pk=certificate.credential.pk).values().get(), default=str)


def test_status_indices_are_gap_free_and_a_rollback_gives_its_index_back(course, django_capture_on_commit_callbacks):
    cohort = CohortFactory(course=course)
    first = issue(django_capture_on_commit_callbacks, cohort=cohort)
    with pytest.raises(RuntimeError), transaction.atomic():
        _next_status_index()
        raise RuntimeError("the issue failed after taking an index")
    second = issue(django_capture_on_commit_callbacks, cohort=cohort)
    assert [first.credential.status_index, second.credential.status_index] == [0, 1]
    assert StatusListCounter.objects.get().last == 1


def test_a_reissued_certificate_gets_a_new_credential_and_index(certificate, operator, api_client):
    api_client.force_authenticate(operator)
    code = code_display(certificate.code)
    assert api_client.post(f"/api/v1/certificates/{code}/revoke/", {"reason": "Salah nama"}).status_code == 200
    assert api_client.post(f"/api/v1/certificates/{code}/reissue/").status_code == 201
    indices = sorted(Credential.objects.values_list("status_index", flat=True))
    assert indices == [0, 1]
