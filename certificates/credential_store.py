"""The certificates' stored Open Badges credentials: signing one at issue with a gap-free status index,
publishing the revocation status list, and answering credential verification.

Writes take keyword arguments and run in the caller's transaction (issuing) or their own. Nothing
here fetches anything from the network: the DID document a credential is checked against is our own,
built from the configured keys."""

import logging
from http import HTTPStatus
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from courses.conf import site_url

from . import credentials
from .codes import code_display
from .conf import certificates_setting
from .models import Certificate, CertificateStatus, Credential, StatusList, StatusListCounter

logger = logging.getLogger(__name__)

# The one revocation list of this issuer (``credentials.STATUS_LIST_PATH``).
REVOCATION_LIST = "revocation"


def _snapshot_value(certificate: Certificate, name: str, fallback: Any) -> Any:
    """A snapshot field of the certificate when the model has it (and it is filled), else ``fallback``."""
    value = getattr(certificate, name, None)
    return fallback if value in (None, "") else value


def credential_snapshot(*, certificate: Certificate, cohort, course) -> credentials.CredentialSnapshot:
    """What the credential says, taken from the certificate as issued (``cohort`` and ``course`` give
    only what the certificate row does not hold: the course's slug and description, the period)."""
    from .services import verify_url

    return credentials.CredentialSnapshot(
        holder_name=certificate.holder_name,
        holder_nip=certificate.holder_nip,
        course_slug=course.slug,
        course_title=certificate.course_title,
        course_description=course.description,
        cohort_name=certificate.cohort_name,
        period_start=_snapshot_value(certificate, "period_starts_on", cohort.starts_on),
        period_end=_snapshot_value(certificate, "period_ends_on", cohort.ends_on),
        jp=int(_snapshot_value(certificate, "jp", 0)),
        issuer_name=_snapshot_value(certificate, "issuer_name", certificates_setting("ISSUER")),
        number=certificate.number,
        code=certificate.code,
        issued_at=certificate.issued_at,
        verify_url=verify_url(certificate.code),
    )


def _next_status_index(*, name: str = REVOCATION_LIST, count: int = 1) -> int:
    """The first of the next ``count`` indices of the status list, gap-free and never reused.

    The UPDATE takes the counter row's lock and holds it until the caller's transaction commits, so
    concurrent issuers queue here and a rollback gives the indices back (as for certificate numbers)."""
    table = connection.ops.quote_name(StatusListCounter._meta.db_table)
    sql = f"UPDATE {table} SET last = last + %s WHERE name = %s RETURNING last"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, name])
        row = cursor.fetchone()
        if row is None:  # the first credential
            try:
                with transaction.atomic():
                    StatusListCounter.objects.create(name=name)
            except IntegrityError:  # another issuer created it first
                pass
            cursor.execute(sql, [count, name])
            row = cursor.fetchone()
    return row[0] - count + 1


def credential_issue(*, certificate: Certificate, cohort, course) -> Credential:
    """Build, sign and store the certificate's credential. Must run inside the transaction that records
    the certificate (it takes the status list counter's lock until that commits).

    Side effects: allocates the next status list index, draws a fresh salt for the NIP's hash, stores
    the signed VC-JWT. Raises ValueError when the status list is full (131,072 credentials)."""
    if not connection.in_atomic_block:
        raise RuntimeError("credential_issue must run inside the certificate's issuing transaction.")
    credential = _credential_build(
        certificate=certificate, cohort=cohort, course=course, index=_next_status_index(), key=None
    )
    credential.save(force_insert=True)
    return credential


def credentials_issue(*, issued: list[tuple[Certificate, Any, Any]]) -> list[Credential]:
    """``credential_issue`` for several certificates recorded in the same transaction, given as
    ``(certificate, cohort, course)``: one status list counter statement for them all (consecutive
    indices, in the order given) and one insert."""
    if not connection.in_atomic_block:
        raise RuntimeError("credentials_issue must run inside the certificates' issuing transaction.")
    if not issued:
        return []
    first, key = _next_status_index(count=len(issued)), credentials.configured_signing_key()
    return Credential.objects.bulk_create(
        [
            _credential_build(certificate=certificate, cohort=cohort, course=course, index=first + n, key=key)
            for n, (certificate, cohort, course) in enumerate(issued)
        ]
    )


def _credential_build(*, certificate: Certificate, cohort, course, index: int, key) -> Credential:
    """The signed credential of ``certificate`` at status ``index``, with a fresh salt (not saved)."""
    salt = credentials.credential_salt()
    key = key or credentials.configured_signing_key()
    claims = credentials.credential_build(
        credential_snapshot(certificate=certificate, cohort=cohort, course=course),
        site_url=site_url(),
        status_index=index,
        salt=salt,
    )
    return Credential(
        certificate=certificate,
        token=credentials.credential_sign(claims, key=key),
        status_index=index,
        salt=salt,
        key_id=credentials.key_id(claims["issuer"]["id"], key),
        created_at=timezone.now(),
    )


def credential_ensure(*, certificate: Certificate) -> Credential | None:
    """The certificate's credential; one is issued now for a valid certificate issued before
    credentials existed. A revoked certificate without one gets none. Idempotent (the certificate's
    row lock serialises concurrent calls). One query when the credential exists."""
    existing = credential_of(certificate)
    if existing is not None:
        return existing
    return _credential_issue_late(certificate=certificate)


@transaction.atomic
def _credential_issue_late(*, certificate: Certificate) -> Credential | None:
    locked = (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("enrollment__cohort__course")
        .get(pk=certificate.pk)
    )
    existing = Credential.objects.filter(certificate=locked).first()
    if existing is not None or locked.status != CertificateStatus.VALID:
        return existing
    cohort = locked.enrollment.cohort
    return credential_issue(certificate=locked, cohort=cohort, course=cohort.course)


def credential_of(certificate: Certificate) -> Credential | None:
    """The stored credential of a certificate (one query), or None."""
    return Credential.objects.filter(certificate=certificate).first()


def credential_url(code: str) -> str:
    """The API path of a certificate's credential (``GET /api/v1/certificates/{code}/credential/``)."""
    return reverse("api-certificate-credential", kwargs={"code": code_display(code)})


# --- The revocation status list -------------------------------------------------------------


def status_list_publish() -> StatusList:
    """Regenerate the signed revocation list from the revoked certificates' credentials.

    Side effects: re-signs and stores the list only when its bits, the signing key or the site's
    identifier changed; the list row's lock serialises publishers, and the revoked indices are read
    under it, so a late publisher never overwrites a newer list with an older one. Idempotent."""
    StatusList.objects.get_or_create(
        name=REVOCATION_LIST,
        defaults={"encoded_list": "", "token": "", "key_id": "", "updated_at": timezone.now()},
    )
    with transaction.atomic():
        row = StatusList.objects.select_for_update().get(name=REVOCATION_LIST)
        indices = list(
            Credential.objects.filter(certificate__status=CertificateStatus.REVOKED).values_list(
                "status_index", flat=True
            )
        )
        encoded = credentials.status_list_encode(indices)
        key = credentials.configured_signing_key()
        site = site_url()
        kid = credentials.key_id(credentials.issuer_did(site), key)
        if row.token and row.encoded_list == encoded and row.key_id == kid:
            return row
        now = timezone.now()
        claims = credentials.status_list_credential(site_url=site, encoded_list=encoded, valid_from=now)
        row.encoded_list, row.key_id, row.revoked, row.updated_at = encoded, kid, len(indices), now
        row.token = credentials.credential_sign(claims, key=key)
        row.save()
    logger.info("revocation status list published: %s revoked", len(indices))
    return row


def status_list_current() -> str:
    """The published status list (VC-JWT), published now if it never was."""
    token = StatusList.objects.filter(name=REVOCATION_LIST).values_list("token", flat=True).first()
    return token or status_list_publish().token


# --- Verification ----------------------------------------------------------------------------


def our_did_document() -> dict:
    """The DID document this platform serves, built locally (no network)."""
    return credentials.did_document(site_url=site_url(), keys=credentials.configured_verification_keys())


def credential_verification(token: str) -> tuple[dict[str, Any], int]:
    """What ``POST /verify/credential/`` answers: the code verification body of the certificate the
    credential names, plus ``signature_valid``; ``valid`` only when the signature holds as well.

    Raises ``credentials.CredentialMalformed`` (400) when ``token`` is no compact JWS at all."""
    from .selectors import certificate_verification, verification_payload

    verified = credentials.credential_verify(token, did_document=our_did_document())
    code = verified.code
    certificate = certificate_verification(code) if code else None
    body, _status = verification_payload(certificate)
    body["signature_valid"] = verified.signature_valid
    if not verified.signature_valid:
        body["valid"] = False
    return body, HTTPStatus.OK
