"""Thin DRF views of the certificates API, and the lean path of code verification."""

from functools import wraps

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from certificates.errors import PdfPending
from certificates.models import CertificateArchive
from certificates.selectors import (
    archive_payload,
    certificate_by_code,
    certificate_filename,
    certificate_visible_to,
    document_verification_payload,
    holder_certificates,
    revocation_payload,
)
from certificates.services import archive_request, certificate_reissue, certificate_revoke
from certificates.throttles import VerifyThrottle
from certificates.uploads import uploaded_document
from certificates.verification_cache import code_verification, verification_cache_key
from courses.api.errors import DomainErrorsMixin
from courses.api.renderers import FileRenderersMixin
from courses.api.serializers import ErrorSerializer
from courses.models import Cohort
from courses.permissions import IsOperator, IsParticipant

from .renderers import PDFRenderer
from .serializers import (
    ArchiveSerializer,
    DocumentUploadSerializer,
    DocumentVerificationSerializer,
    MyCertificateSerializer,
    RevokeResultSerializer,
    RevokeSerializer,
    VerifySerializer,
)


class VerifyView(DomainErrorsMixin, APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [VerifyThrottle]
    throttle_scope = "verify"

    @extend_schema(responses={200: VerifySerializer, 404: VerifySerializer})
    def get(self, request: Request, code: str) -> Response:
        # The payload is built as plain data (VerifySerializer documents it); ``verify`` below serves
        # the same answer without DRF's request cycle.
        answer = code_verification(code)
        return Response(answer.body, status=answer.status)


_verify_view = VerifyView.as_view()
_VERIFY_HEADERS = {"Allow": "GET, HEAD, OPTIONS"}  # as VerifyView sends it
# The media types whose answer is the plain JSON body (DRF's negotiation picks JSONRenderer for them).
_JSON_TYPES = frozenset({"*/*", "application/*", "application/json"})


def _plain_json_accepted(request: HttpRequest) -> bool:
    """True when DRF would answer this request with the plain JSON body: no query string (``?format=``)
    and an Accept header that is absent or names JSON (or a wildcard) without parameters other than ``q``
    (``indent=`` changes the body)."""
    if request.META.get("QUERY_STRING"):
        return False
    accept = request.META.get("HTTP_ACCEPT")
    if not accept:
        return True
    for part in accept.split(","):
        media_type, *parameters = part.split(";")
        if media_type.strip().lower() in _JSON_TYPES:
            return all(parameter.strip().lower().startswith("q=") for parameter in parameters)
    return False


class _AnonymousClient:
    """What the verification throttle reads of a request to ``VerifyView``, which authenticates nobody:
    no user (so the client is its address, never a session's user), its META and X-Forwarded-For
    (without building the request's whole ``headers`` for that one)."""

    user = None

    def __init__(self, request: HttpRequest) -> None:
        self.META = request.META
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
        self.headers = {} if forwarded is None else {"x-forwarded-for": forwarded}


@wraps(_verify_view)  # cls and initkwargs included: the schema documents VerifyView for this route
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """``GET /verify/{code}/`` outside DRF's request cycle, the busiest public read: the throttle, then
    the cached answer (no query on a hit), byte for byte what ``VerifyView`` answers. Any other method,
    content negotiation other than plain JSON, and a throttled client (the 429 with its Retry-After)
    are ``VerifyView``'s own."""
    if request.method not in ("GET", "HEAD") or not _plain_json_accepted(request):
        return _verify_view(request, code=code)
    key = verification_cache_key(code)
    allowed, cached = VerifyThrottle().allow_request_reading(_AnonymousClient(request), VerifyView, key)
    if not allowed:
        return _verify_view(request, code=code)
    answer = code_verification(code, cached=cached) if key else code_verification(code)
    return HttpResponse(answer.content, status=answer.status, content_type="application/json", headers=_VERIFY_HEADERS)


class VerifyDocumentView(DomainErrorsMixin, APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [VerifyThrottle]
    throttle_scope = "verify"  # the same limit as code verification
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={
            200: DocumentVerificationSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="No file (`file_required`), over 5 MB (`too_large`), not a PDF (`not_pdf`), "
                "password-protected (`encrypted`), damaged or too complex to check (`unreadable`).",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        # DocumentRejected, DocumentMissing: 400 with a translated message.
        return Response(document_verification_payload(uploaded_document(request)))


class MyCertificatesView(DomainErrorsMixin, APIView):
    permission_classes = [IsParticipant]

    @extend_schema(responses=MyCertificateSerializer(many=True))
    def get(self, request: Request) -> Response:
        certificates = holder_certificates(user=request.user)
        return Response(MyCertificateSerializer(certificates, many=True, context={"request": request}).data)


class CertificatePdfView(DomainErrorsMixin, FileRenderersMixin, APIView):
    # Not IsAuthenticated: a 401 would tell the anonymous apart; the contract gives every outsider 404.
    permission_classes = [AllowAny]
    # JSON first: */* and no Accept header pick it, and the view streams the PDF whichever was picked.
    # PDFRenderer only lets `Accept: application/pdf` through; 404 and 409 bodies stay JSON.
    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        description="The certificate's PDF, for its holder and operators; anyone else (also anonymous) gets 404.",
        responses={
            (200, "application/pdf"): bytes,
            404: None,
            # Raw schema: the PDF is still being rendered right after issuing (`pdf_pending`); retry shortly.
            (409, "application/json"): {
                "type": "object",
                "properties": {"detail": {"type": "string"}, "code": {"type": "string", "enum": ["pdf_pending"]}},
                "required": ["detail", "code"],
            },
        },
    )
    def get(self, request: Request, code: str):
        certificate = certificate_by_code(code)
        # Anyone but the holder and operators gets 404: not even the existence is revealed.
        if certificate is None or not certificate_visible_to(certificate=certificate, user=request.user):
            raise Http404
        if not certificate.sha256:  # recorded a moment ago; its PDF is being rendered
            raise PdfPending()
        response = FileResponse(
            certificate.pdf.open("rb"), content_type="application/pdf", filename=certificate_filename(certificate)
        )
        # The file stays as issued; a revoked one's download says so (file name and this header).
        response["Certificate-Status"] = certificate.status
        return response


class RevokeView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        request=RevokeSerializer,
        responses={
            200: RevokeResultSerializer,
            409: OpenApiResponse(ErrorSerializer, description="Revoked already (`already_revoked`)."),
        },
    )
    def post(self, request: Request, code: str) -> Response:
        certificate = certificate_by_code(code)
        if certificate is None:
            raise Http404
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # ReasonRequired: 400; AlreadyRevoked: 409.
        certificate = certificate_revoke(
            certificate=certificate, reason=serializer.validated_data["reason"], by=request.user
        )
        return Response(revocation_payload(certificate))


class ReissueView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        request=None,
        responses={
            201: MyCertificateSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="Still valid (`still_valid`): revoke it first; or the course is not completed "
                "(`not_completed`).",
            ),
        },
    )
    def post(self, request: Request, code: str) -> Response:
        certificate = certificate_by_code(code)
        if certificate is None:
            raise Http404
        issued = certificate_reissue(certificate=certificate, by=request.user)  # StillValid: 409
        data = MyCertificateSerializer(issued, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class CohortArchiveView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]

    @extend_schema(request=None, responses={202: ArchiveSerializer})
    def post(self, request: Request, pk: int) -> Response:
        cohort = get_object_or_404(Cohort, pk=pk)
        archive = archive_request(cohort=cohort, by=request.user)
        archive.refresh_from_db()
        return Response(archive_payload(archive), status=status.HTTP_202_ACCEPTED)


class ArchiveStatusView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]

    @extend_schema(responses=ArchiveSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(archive_payload(get_object_or_404(CertificateArchive, pk=pk)))
