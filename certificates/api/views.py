"""Thin DRF views of the certificates API."""

from django.http import FileResponse, Http404
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
    certificate_verification,
    certificate_visible_to,
    document_verification_payload,
    holder_certificates,
    revocation_payload,
    verification_payload,
)
from certificates.services import archive_request, certificate_reissue, certificate_revoke
from certificates.throttles import VerifyThrottle
from certificates.uploads import uploaded_document
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
        # The payload is built as plain data (VerifySerializer documents it): this endpoint is hot.
        body, status_code = verification_payload(certificate_verification(code))
        return Response(body, status=status_code)


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
