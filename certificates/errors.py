"""Domain errors raised by certificates' services."""

from django.utils.translation import gettext_lazy as _

from courses.errors import DomainError


class CertificatesError(DomainError):
    """Base of certificates' domain errors (``code``, translatable ``message`` and ``http_status``)."""


class NotCompleted(CertificatesError):
    code = "not_completed"
    http_status = 409
    message = _("The course is not completed yet, so there is no certificate to issue.")


class AlreadyRevoked(CertificatesError):
    code = "already_revoked"
    http_status = 409
    message = _("This certificate is already revoked.")


class StillValid(CertificatesError):
    code = "still_valid"
    http_status = 409
    message = _("This enrolment still has a valid certificate; revoke it before issuing a new one.")


class ReasonRequired(CertificatesError):
    code = "reason_required"
    message = _("Give the reason for revoking the certificate.")


class PdfPending(CertificatesError):
    code = "pdf_pending"
    http_status = 409
    message = _("The PDF is being prepared; try again in a few seconds.")


class SealUnavailable(CertificatesError):
    """A seal key is configured but cannot seal: nothing is issued unsealed (system check certificates.E002)."""

    code = "seal_unavailable"
    http_status = 503
    message = _("The electronic seal is not available, so no certificate can be issued now; the operators are told.")


class DocumentMissing(CertificatesError):
    code = "file_required"
    message = _("Attach the certificate's PDF (the form field “file”).")
