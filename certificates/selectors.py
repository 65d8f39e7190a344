"""Reads of the certificates app, each a fixed number of queries."""

from functools import cache, lru_cache
from http import HTTPStatus
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse

from .codes import code_display, code_normalize
from .conf import certificates_setting
from .models import Certificate, CertificateArchive, CertificateSettings, CertificateStatus


def certificate_number_prefix(*, course) -> str:
    """The prefix of the course's certificate numbers: its settings', else ``NUMBER_PREFIX``.

    No query when ``certificate_settings`` was selected with the course."""
    try:
        return course.certificate_settings.number_prefix
    except CertificateSettings.DoesNotExist:
        return certificates_setting("NUMBER_PREFIX")


def certificate_filename(certificate: Certificate, *, in_archive: bool = False) -> str:
    """The PDF's file name: ``sertifikat-GCIO-KALTIM-2026-00001.pdf`` for a download; in a cohort's ZIP,
    ``GCIO-KALTIM-2026-00001_<NIP>.pdf`` (sorted by number, findable by NIP). Slashes never reach a file name.
    A revoked certificate's download says so: ``sertifikat-…-DICABUT.pdf`` (the file itself stays as issued)."""
    stem = certificate.number.replace("/", "-")
    if in_archive:
        return f"{stem}_{certificate.holder_nip}.pdf"
    return (
        f"sertifikat-{stem}-DICABUT.pdf"
        if certificate.status == CertificateStatus.REVOKED
        else f"sertifikat-{stem}.pdf"
    )


def credential_filename(number: str) -> str:
    """The credential's file name, beside the PDF's: ``sertifikat-GCIO-KALTIM-2026-00001.jwt``."""
    return "sertifikat-" + number.replace("/", "-") + ".jwt"


def certificate_by_code(text: str) -> Certificate | None:
    """The certificate a typed or scanned code names (case, dashes and spaces ignored), or None."""
    code = code_normalize(text)
    if code is None:
        return None
    return Certificate.objects.select_related("enrollment__cohort__course").filter(code=code).first()


VERIFICATION_FIELDS = (
    "code", "status", "number", "holder_name", "holder_nip", "course_title", "cohort_name",
    "issued_at", "revoked_at", "revoked_reason", "jp", "issuer_name", "period_starts_on", "period_ends_on",
    "signatory_name", "signatory_position", "seal_signer",
)  # fmt: skip


@cache
def _verification_sql(vendor: str) -> str:
    """The verification lookup's SQL, built once from the model's metadata (names are not repeated here)."""
    quote, meta = connection.ops.quote_name, Certificate._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in ("id", *VERIFICATION_FIELDS))
    return f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(meta.get_field('code').column)} = %s"  # noqa: S608


def certificate_verification(text: str) -> Certificate | None:
    """Only what public verification shows, in one indexed lookup.

    This is the busiest public read, and compiling the equivalent queryset costs the web process
    more than twice what running it does, so the SQL is built once; ``raw()`` still applies the
    fields' converters (time zones included) on every database."""
    code = code_normalize(text)
    if code is None:
        return None
    return next(iter(Certificate.objects.raw(_verification_sql(connection.vendor), [code])), None)


def holder_certificates(*, user) -> QuerySet[Certificate]:
    return (
        Certificate.objects.filter(enrollment__participant__user=user)
        .select_related("enrollment__cohort__course")
        .order_by("-issued_at", "-pk")
    )


def certificate_visible_to(*, certificate: Certificate, user) -> bool:
    """Its holder and operators may download the PDF."""
    from courses.selectors import user_is_operator

    if not getattr(user, "is_authenticated", False):
        return False
    return certificate.enrollment.participant.user_id == user.pk or user_is_operator(user)


def nip_masked(nip: str) -> str:
    """Enough of a NIP to recognise it, never all of it: 19850330********02."""
    return nip[:8] + "*" * (len(nip) - 10) + nip[-2:] if len(nip) > 10 else "*" * len(nip)


def enrollment_certificates(enrollment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per enrolment, its valid certificate's number, code and page (one query): for progress reports."""
    rows = Certificate.objects.filter(enrollment_id__in=enrollment_ids, status=CertificateStatus.VALID).values_list(
        "enrollment_id", "number", "code"
    )
    return {
        enrollment_id: {
            "number": number,
            "code": code_display(code),
            "url": reverse("certificates:mine", kwargs={"code": code_display(code)}),
            "credential_url": reverse("api-certificate-credential", kwargs={"code": code_display(code)}),
            "credential_filename": credential_filename(number),
        }
        for enrollment_id, number, code in rows
    }


@lru_cache(maxsize=64)  # a handful of seal subjects, parsed on every verification otherwise
def seal_signer_name(subject: str) -> str:
    """The common name in a seal certificate's RFC 4514 subject (the whole subject if it has none)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    if not subject:
        return ""
    try:
        names = x509.Name.from_rfc4514_string(subject).get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return subject
    return str(names[0].value) if names else subject


def certificate_replacement(certificate: Certificate) -> Certificate | None:
    """The certificate that replaced a revoked one (a re-issue with corrections), or None. One query."""
    return Certificate.objects.filter(replaces_id=certificate.pk).only("number", "code").first()


def valid_certificate_number():
    """The number of the enrolment's valid certificate, as an expression on Enrollment rows: the
    progress report joins it into its query (courses' ``ProgressColumn.annotation``)."""
    from django.db.models import OuterRef, Subquery

    return Subquery(
        Certificate.objects.filter(enrollment_id=OuterRef("pk"), status=CertificateStatus.VALID).values("number")[:1]
    )


def verification_payload(certificate: Certificate | None) -> tuple[dict[str, Any], int]:
    """What anyone may learn from a code: the contract's verification body and its HTTP status.

    The only builder of that body, for the API and the page; ``VerifySerializer`` documents it.
    No query for a valid certificate; one for a revoked one (its replacement, if any)."""
    if certificate is None:
        return {"valid": False, "status": "not_found"}, HTTPStatus.NOT_FOUND
    body = {
        "valid": certificate.status == CertificateStatus.VALID,
        "status": certificate.status,
        "number": certificate.number,
        "code": code_display(certificate.code),
        "holder_name": certificate.holder_name,
        "holder_nip": nip_masked(certificate.holder_nip),
        "course": certificate.course_title,
        "cohort": certificate.cohort_name,
        "issued_at": certificate.issued_at,
        "jp": certificate.jp,
        "issuer": certificate.issuer_name or certificates_setting("ISSUER"),
        "period": {"starts_on": certificate.period_starts_on, "ends_on": certificate.period_ends_on},
        "signed_by": certificate.signatory_name,
        "sealed_by": seal_signer_name(certificate.seal_signer),
    }
    if certificate.status == CertificateStatus.REVOKED:
        body.update(revoked_at=certificate.revoked_at, reason=certificate.revoked_reason)
        replacement = certificate_replacement(certificate)
        body["replaced_by"] = (
            {"number": replacement.number, "code": code_display(replacement.code)} if replacement else None
        )
    return body, HTTPStatus.OK


def document_verification_payload(data: bytes) -> dict[str, Any]:
    """What a PDF someone received says of itself: the contract's ``verify/document`` body.

    ``genuine`` when its bytes are exactly those issued under the code it carries (SHA-256) and its
    seal validates against our seal certificates; ``modified`` when it carries a code of ours but its
    bytes differ or the seal no longer covers it; ``unknown`` otherwise. Raises DocumentRejected
    (not a PDF, over 5 MB, encrypted, too complex: a bomb) and SealUnavailable. One query at most."""
    from .errors import SealUnavailable
    from .sealing import document_inspect, document_verdict, seal_trust_roots

    try:
        roots = seal_trust_roots()
    except (OSError, ValueError) as exc:  # a configured seal that cannot be read (certificates.E002)
        raise SealUnavailable() from exc
    inspection = document_inspect(data, trust_roots=roots)
    certificate = None
    if inspection.codes:
        # The first code the file carries that is ours (a file whose seal no longer holds may carry
        # an altered code in its document information, and its own on the page).
        found = Certificate.objects.filter(code__in=inspection.codes).only("code", "number", "status", "sha256")
        by_code = {c.code: c for c in found}
        certificate = next((by_code[code] for code in inspection.codes if code in by_code), None)
    verdict = document_verdict(inspection, certificate.sha256 if certificate else None)
    if verdict != "genuine":
        return {"genuine": False, "reason": verdict}
    return {
        "genuine": True,
        "code": code_display(certificate.code),
        "number": certificate.number,
        "status": certificate.status,
        "seal": {"valid": True, "signer": inspection.seal.signer, "signed_at": inspection.seal.signed_at},
    }


def archive_payload(archive: CertificateArchive) -> dict[str, Any]:
    """A cohort archive's state as the API returns it and the page shows it (``ArchiveSerializer`` documents it)."""
    return {
        "id": archive.pk,
        "status": archive.status,
        "total": archive.total,
        "done": archive.done,
        "download_url": reverse("certificates:archive-download", kwargs={"pk": archive.pk}) if archive.file else None,
    }


def revocation_payload(certificate: Certificate) -> dict[str, Any]:
    """A revoked certificate as the revoke endpoint returns it (``RevokeResultSerializer`` documents it)."""
    return {
        "number": certificate.number,
        "code": code_display(certificate.code),
        "status": certificate.status,
        "revoked_at": certificate.revoked_at,
        "reason": certificate.revoked_reason,
    }


def certificates_of_enrollment(*, enrollment_id: int) -> list[Certificate]:
    """Every certificate of one enrolment, valid or revoked, newest first (one query): for the
    operators' participant page."""
    return list(Certificate.objects.filter(enrollment_id=enrollment_id).order_by("-issued_at", "-pk"))
