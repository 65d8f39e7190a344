"""Thin DRF views of the Open Badges credentials: the holder's download and credential verification."""

from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from certificates.credential_store import credential_ensure, credential_verification
from certificates.credentials import MEDIA_TYPE
from certificates.selectors import certificate_by_code, certificate_visible_to, credential_filename
from certificates.throttles import VerifyThrottle
from courses.api.errors import DomainErrorsMixin
from courses.api.renderers import FileRenderersMixin
from courses.api.serializers import ErrorSerializer

from .renderers import VCJWTRenderer
from .serializers import CredentialVerifyRequestSerializer, CredentialVerifySerializer


class CredentialView(DomainErrorsMixin, FileRenderersMixin, APIView):
    # As for the PDF: anyone but the holder and operators (the anonymous too) gets 404.
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, VCJWTRenderer]

    @extend_schema(
        description="The certificate as an Open Badges 3.0 credential secured as a compact JWS (VC-JWT), "
        "for its holder and operators; anyone else (also anonymous) gets 404.",
        responses={(200, MEDIA_TYPE): str, 404: None},
    )
    def get(self, request: Request, code: str) -> HttpResponse:
        certificate = certificate_by_code(code)
        if certificate is None or not certificate_visible_to(certificate=certificate, user=request.user):
            raise Http404
        credential = credential_ensure(certificate=certificate)
        if credential is None:  # revoked before credentials existed
            raise Http404
        response = HttpResponse(credential.token, content_type=MEDIA_TYPE)
        response["Content-Disposition"] = f'inline; filename="{credential_filename(certificate.number)}"'
        response["Cache-Control"] = "private, no-store"
        return response


class CredentialVerifyView(DomainErrorsMixin, APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [VerifyThrottle]
    throttle_scope = "verify"

    @extend_schema(
        request=CredentialVerifyRequestSerializer,
        responses={
            200: CredentialVerifySerializer,
            400: OpenApiResponse(ErrorSerializer, description="No compact JWS at all (`malformed_credential`)."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = CredentialVerifyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # CredentialMalformed: 400.
        body, status_code = credential_verification(serializer.validated_data["credential"])
        return Response(body, status=status_code)
