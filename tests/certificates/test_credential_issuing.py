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
from certificates.models import Certificate, Credential, StatusList, StatusListCounter
from certificates.throttles import VerifyThrottle
from tests.factories import CohortFactory, EnrollmentFactory, ParticipantProfileFactory

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


# --- For the holder --------------------------------------------------------------------------


def credential_path(certificate) -> str:
    return f"/api/v1/certificates/{code_display(certificate.code)}/credential/"


@pytest.mark.parametrize("who, expected", [("holder", 200), ("operator", 200), ("other", 404), ("anonymous", 404)])
def test_the_credential_is_for_its_holder_and_operators(api_client, certificate, operator, who, expected):
    users = {
        "holder": certificate.enrollment.participant.user,
        "operator": operator,
        "other": ParticipantProfileFactory().user,
    }
    if who in users:
        api_client.force_authenticate(users[who])
    response = api_client.get(credential_path(certificate))
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/vc+jwt"
        assert response.content.decode() == certificate.credential.token
        stem = certificate.number.replace("/", "-")
        assert response["Content-Disposition"] == f'inline; filename="sertifikat-{stem}.jwt"'
        # Asked for by its media type as well.
        asked = api_client.get(credential_path(certificate), HTTP_ACCEPT="application/vc+jwt")
        assert (asked.status_code, asked.content.decode()) == (200, certificate.credential.token)


def test_refusals_stay_json_when_the_jwt_format_is_asked_for(api_client, certificate):
    response = api_client.get(credential_path(certificate) + "?format=jwt")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_my_certificates_link_the_credential(api_client, certificate):
    api_client.force_authenticate(certificate.enrollment.participant.user)
    (item,) = api_client.get("/api/v1/me/certificates/").json()
    assert item["credential_url"] == "http://testserver" + credential_path(certificate)
    assert api_client.get(item["credential_url"]).content.decode() == certificate.credential.token


def test_the_holder_page_offers_the_jwt_its_json_and_an_explanation_in_both_languages(client, certificate):
    client.force_login(certificate.enrollment.participant.user)
    code = code_display(certificate.code)
    page = client.get(f"/certificates/{code}/").content.decode()
    assert credential_path(certificate) in page and f"/certificates/{code}/credential.json" in page
    assert "Kredensial digital" in page and "Open Badges 3.0" in page
    english = client.get(f"/certificates/{code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Digital credential" in english and "salted hash" in english
    assert NIP not in page
    claims = client.get(f"/certificates/{code}/credential.json")
    assert claims["Content-Type"] == "application/json"
    assert claims.json() == credentials.token_claims(certificate.credential.token)
    dashboard = client.get("/dashboard/").content.decode()
    assert credential_path(certificate) in dashboard
    client.force_login(ParticipantProfileFactory().user)
    assert client.get(f"/certificates/{code}/credential.json").status_code == 404


def test_a_certificate_issued_before_credentials_gets_one_on_first_download(api_client, certificate):
    certificate.credential.delete()
    api_client.force_authenticate(certificate.enrollment.participant.user)
    token = api_client.get(credential_path(certificate)).content.decode()
    stored = Credential.objects.get(certificate=certificate)
    assert token == stored.token and stored.status_index == 1  # index 0 is never given again
    assert api_client.get(credential_path(certificate)).content.decode() == token


# --- The status list -------------------------------------------------------------------------


def status_list(client, document) -> tuple[dict, bytes]:
    response = client.get("/credentials/status/1")
    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    claims = verify_independently(response.content.decode(), document)
    return claims, credentials.status_list_decode(claims["credentialSubject"]["encodedList"])


def test_after_a_revocation_the_bit_is_set_and_verification_says_revoked(
    client, api_client, certificate, operator, django_capture_on_commit_callbacks
):
    document = did_document(client)
    index = certificate.credential.status_index
    claims, bits = status_list(client, document)
    assert "BitstringStatusListCredential" in claims["type"]
    assert claims["credentialSubject"]["statusPurpose"] == "revocation"
    assert claims["credentialSubject"]["encodedList"].startswith("u")
    assert len(bits) * 8 >= 131_072
    assert not credentials.status_list_is_set(bits, index)

    api_client.force_authenticate(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            f"/api/v1/certificates/{code_display(certificate.code)}/revoke/", {"reason": "Keliru"}
        )
    assert response.status_code == 200
    claims, bits = status_list(client, document)
    assert credentials.status_list_is_set(bits, index)
    assert credentials.revoked_indices_from(bits) == [index]
    assert StatusList.objects.get().revoked == 1

    api_client.force_authenticate(None)
    answer = api_client.post("/api/v1/verify/credential/", {"credential": certificate.credential.token}, format="json")
    body = answer.json()
    assert answer.status_code == 200
    assert (body["signature_valid"], body["valid"], body["status"], body["reason"]) == (
        True,
        False,
        "revoked",
        "Keliru",
    )


def test_the_status_list_is_cached_with_an_etag_and_republished_only_when_it_changes(client, certificate):
    first = client.get("/credentials/status/1")
    assert "public" in first["Cache-Control"] and "max-age=60" in first["Cache-Control"]
    assert client.get("/credentials/status/1", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    from certificates.credential_store import status_list_publish

    status_list_publish()  # nothing changed: the same signed list
    assert client.get("/credentials/status/1")["ETag"] == first["ETag"]
    assert NIP not in first.content.decode()


def test_the_periodic_publication_catches_up_when_the_message_after_a_revocation_was_lost(certificate):
    from certificates.conf import BEAT_SCHEDULE
    from certificates.tasks import status_list_publish_task

    assert BEAT_SCHEDULE["certificates-status-list"]["task"] == status_list_publish_task.name
    assert BEAT_SCHEDULE["certificates-status-list"]["schedule"] <= 60
    status_list_publish_task()
    # Revoked without its after-commit message running (a broker outage).
    from certificates.services import certificate_revoke

    certificate_revoke(certificate=certificate, reason="Keliru")
    assert StatusList.objects.get().revoked == 0
    assert status_list_publish_task() == 1


# --- Credential verification -----------------------------------------------------------------


def verify_credential(api_client, token):
    return api_client.post("/api/v1/verify/credential/", {"credential": token}, format="json")


def test_a_genuine_credential_verifies_like_its_code(api_client, certificate):
    body = verify_credential(api_client, certificate.credential.token).json()
    by_code = api_client.get(f"/api/v1/verify/{code_display(certificate.code)}/").json()
    assert body == {**by_code, "signature_valid": True}
    assert body["valid"] is True and body["status"] == "valid"


def tampered(token: str, old: str, new: str) -> str:
    """``token`` with one character of its payload changed (re-encoded), signature kept."""
    header, payload, signature = token.split(".")
    text = b64decode(payload).decode()
    assert old in text
    changed = text.replace(old, new, 1)
    encoded = base64.urlsafe_b64encode(changed.encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


def test_one_character_changed_is_not_genuine(api_client, certificate):
    token = certificate.credential.token
    forged_name = tampered(token, "Siti", "Sita")
    assert (
        sum(a != b for a, b in zip(b64decode(token.split(".")[1]), b64decode(forged_name.split(".")[1]), strict=True))
        == 1
    )
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    flipped = signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
    for forged in (forged_name, f"{header}.{payload}.{flipped}"):
        response = verify_credential(api_client, forged)
        body = response.json()
        assert response.status_code == 200
        assert (body["signature_valid"], body["valid"]) == (False, False)
        assert body["number"] == certificate.number  # what the platform holds for the code it names
        with pytest.raises(jws.InvalidJWSSignature):
            verify_independently(forged, did_document(api_client))


@pytest.mark.parametrize("value", ["", "not a credential", "a.b", "a.b.c.d", "eyJhbGciOiJFUzI1NiJ9.bm9wZQ.c2ln"])
def test_what_is_no_compact_jws_is_400(api_client, certificate, value):
    response = api_client.post("/api/v1/verify/credential/", {"credential": value}, format="json")
    assert response.status_code == 400
    assert api_client.post("/api/v1/verify/credential/", {}, format="json").status_code == 400


def test_a_credential_of_another_issuer_is_not_valid(api_client, certificate):
    other = ec.generate_private_key(ec.SECP256R1())
    claims = credentials.token_claims(certificate.credential.token)
    for name in ("iss", "jti", "nbf"):
        claims.pop(name)
    body = verify_credential(api_client, credentials.credential_sign(claims, key=other)).json()
    assert (body["signature_valid"], body["valid"]) == (False, False)


def test_credential_verification_is_rate_limited_like_code_verification(api_client, certificate, settings, monkeypatch):
    monkeypatch.setattr(VerifyThrottle, "timer", staticmethod(lambda: 1_800_000_005.0))
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"verify": "2/minute"}}
    token = certificate.credential.token
    assert [verify_credential(api_client, token).status_code for _ in range(3)] == [200, 200, 429]
    # One allowance for code and credential verification alike.
    assert api_client.get(f"/api/v1/verify/{code_display(certificate.code)}/").status_code == 429


def test_the_endpoints_are_in_the_openapi_schema(api_client):
    schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    credential = schema["paths"]["/api/v1/certificates/{code}/credential/"]["get"]
    assert "application/vc+jwt" in credential["responses"]["200"]["content"]
    verify = schema["paths"]["/api/v1/verify/credential/"]["post"]
    assert set(verify["responses"]) >= {"200", "400"}
    (ref,) = [c["schema"]["$ref"] for c in verify["responses"]["200"]["content"].values()]
    assert "signature_valid" in schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]


def test_the_verify_page_takes_a_pasted_credential(client, certificate):
    page = client.get("/verify/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="credential"' in page
    genuine = client.post("/verify/", {"credential": certificate.credential.token}, HTTP_ACCEPT_LANGUAGE="en")
    assert genuine.status_code == 200
    html = genuine.content.decode()
    assert "signature is genuine" in html and "Valid certificate" in html and certificate.number in html
    forged = client.post("/verify/", {"credential": tampered(certificate.credential.token, "Siti", "Sita")})
    assert forged.status_code == 200 and "Bukan kredensial asli" in forged.content.decode()
    garbage = client.post("/verify/", {"credential": "hello"}, HTTP_ACCEPT_LANGUAGE="en")
    assert garbage.status_code == 400 and "is not a digital credential" in garbage.content.decode()


def test_a_configured_key_that_cannot_be_read_is_a_startup_error(settings, tmp_path):
    from certificates.checks import credential_keys_load

    assert credential_keys_load() == []
    settings.CERTIFICATES_CREDENTIALS_SIGNING_KEY = str(tmp_path / "missing.pem")
    (error,) = credential_keys_load()
    assert error.id == "certificates.E003" and "missing.pem" in error.msg
    public = tmp_path / "public.pem"
    public.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    settings.CERTIFICATES_CREDENTIALS_SIGNING_KEY = str(public)
    settings.CERTIFICATES_CREDENTIALS_PREVIOUS_KEYS = [str(public)]  # a public retired key is fine
    (error,) = credential_keys_load()
    assert "holds a public key" in error.msg


def test_the_admin_lists_credentials_read_only(client, admin_user, certificate):
    client.force_login(admin_user)
    page = client.get("/admin/certificates/credential/")
    assert page.status_code == 200 and certificate.number in page.content.decode()
    change = client.get(f"/admin/certificates/credential/{certificate.credential.pk}/change/")
    assert change.status_code == 200 and 'name="token"' not in change.content.decode()
    assert client.get("/admin/certificates/credential/add/").status_code == 403
