"""Server-rendered pages: public verification, the holder's certificate, operators' cohort certificates."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from courses.models import Cohort
from courses.permissions import operator_required

from .codes import code_display, code_normalize
from .credential_store import credential_ensure, credential_url, credential_verification
from .credentials import CredentialMalformed, token_claims
from .errors import CertificatesError
from .models import Certificate, CertificateArchive
from .selectors import (
    archive_payload,
    certificate_by_code,
    certificate_visible_to,
    credential_filename,
    document_verification_payload,
    nip_masked,
)
from .services import archive_request, certificate_reissue, certificate_revoke, verify_url
from .throttles import VerifyThrottle
from .uploads import uploaded_document
from .verification_cache import code_verification


class _PageThrottleView:
    throttle_scope = "verify"


def _throttled(request: HttpRequest) -> bool:
    return not VerifyThrottle().allow_request(request, _PageThrottleView())


@require_http_methods(["GET", "HEAD", "POST"])
def verify_form(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _verify_credential(request)
    typed = request.GET.get("code", "").strip()
    if not typed:
        return render(request, "certificates/verify_form.html")
    # People paste the whole link the QR code holds as often as they type the code.
    code = code_normalize(typed.rstrip("/").rsplit("/", 1)[-1])
    if code is None:
        error = _("“%(typed)s” is not a verification code: it has 12 letters and digits, like 7KQ2-9XW4-M3HD.") % {
            "typed": typed[:40]
        }
        return render(request, "certificates/verify_form.html", {"error": error, "typed": typed[:40]}, status=400)
    return redirect("certificates:verify", code=code_display(code))


@require_POST
def verify_document(request: HttpRequest) -> HttpResponse:
    """The upload box of /verify/: is this PDF exactly a certificate we issued?"""
    if _throttled(request):
        return render(request, "certificates/verify_throttled.html", status=429)
    try:
        result = document_verification_payload(uploaded_document(request))
    except CertificatesError as exc:
        return render(request, "certificates/verify_form.html", {"document_error": exc.message}, status=exc.http_status)
    return render(request, "certificates/verify_document.html", {"result": result})


def _verify_credential(request: HttpRequest) -> HttpResponse:
    """A pasted credential (VC-JWT): the same answer as its code's page, and whether its signature holds."""
    if _throttled(request):
        return render(request, "certificates/verify_throttled.html", status=429)
    pasted = request.POST.get("credential", "")
    try:
        body, status_code = credential_verification(pasted)
    except CredentialMalformed:
        error = _(
            "This is not a digital credential: paste the whole content of the .jwt file (three parts separated by dots)."
        )
        return render(
            request, "certificates/verify_form.html", {"credential_error": error, "pasted": pasted[:200]}, status=400
        )
    return render(
        request,
        "certificates/verify.html",
        {"result": body, "code": body.get("code", ""), "from_credential": True},
        status=status_code,
    )


def verify(request: HttpRequest, code: str) -> HttpResponse:
    if _throttled(request):
        return render(request, "certificates/verify_throttled.html", status=429)
    answer = code_verification(code)  # the API's answer, cached alike
    context = {"result": answer.body, "code": code, "signatory_position": answer.signatory_position}
    return render(request, "certificates/verify.html", context, status=answer.status)


@login_required
def mine(request: HttpRequest, code: str) -> HttpResponse:
    certificate = certificate_by_code(code)
    if certificate is None or not certificate_visible_to(certificate=certificate, user=request.user):
        raise Http404
    credential = credential_ensure(certificate=certificate)  # signs one for a certificate older than credentials
    return render(
        request,
        "certificates/certificate.html",
        {
            "certificate": certificate,
            "code": code_display(certificate.code),
            "verify_url": verify_url(certificate.code),
            "nip": nip_masked(certificate.holder_nip),
            "credential": credential,
            "credential_url": credential_url(certificate.code) if credential else None,
            "credential_json": json.dumps(token_claims(credential.token), indent=2, ensure_ascii=False)
            if credential
            else None,
            "credential_filename": credential_filename(certificate.number),
        },
    )


@operator_required
@require_http_methods(["GET"])
def cohort_certificates(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    certificates = Certificate.objects.filter(enrollment__cohort=cohort).order_by("holder_name", "-issued_at")
    archive = CertificateArchive.objects.filter(cohort=cohort).first()
    return render(
        request,
        "certificates/operator_cohort.html",
        {
            "cohort": cohort,
            "certificates": certificates,
            "archive": archive_payload(archive) if archive else None,
        },
    )


@operator_required
@require_POST
def revoke(request: HttpRequest, code: str) -> HttpResponse:
    certificate = certificate_by_code(code)
    if certificate is None:
        raise Http404
    try:
        certificate_revoke(certificate=certificate, reason=request.POST.get("reason", ""), by=request.user)
    except CertificatesError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Certificate %(number)s revoked.") % {"number": certificate.number})
    return redirect("certificates:cohort", pk=certificate.enrollment.cohort_id)


@operator_required
@require_POST
def reissue(request: HttpRequest, code: str) -> HttpResponse:
    certificate = certificate_by_code(code)
    if certificate is None:
        raise Http404
    try:
        issued = certificate_reissue(certificate=certificate, by=request.user, reason=request.POST.get("reason", ""))
    except CertificatesError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("New certificate %(number)s issued.") % {"number": issued.number})
    return redirect("certificates:cohort", pk=certificate.enrollment.cohort_id)


@operator_required
@require_POST
def archive_create(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort, pk=pk)
    archive_request(cohort=cohort, by=request.user)
    return redirect("certificates:cohort", pk=cohort.pk)


@operator_required
def archive_download(request: HttpRequest, pk: int) -> FileResponse:
    archive = get_object_or_404(CertificateArchive.objects.select_related("cohort"), pk=pk)
    if not archive.file:
        raise Http404
    return FileResponse(archive.file.open("rb"), as_attachment=True, filename=f"sertifikat-{archive.cohort.pk}.zip")
