"""Serializers of the certificates API (contract shapes in API.md)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from certificates.codes import code_display
from certificates.conf import certificates_setting
from certificates.credential_store import credential_url
from certificates.credentials import MAX_TOKEN_LENGTH
from certificates.services import verify_url


class CourseRefSerializer(serializers.Serializer):
    slug = serializers.SlugField(source="enrollment.cohort.course.slug")
    title = serializers.CharField(source="course_title")


class PeriodSerializer(serializers.Serializer):
    """The cohort's period as the certificate states it."""

    starts_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(allow_null=True)


class ReplacementSerializer(serializers.Serializer):
    number = serializers.CharField()
    code = serializers.CharField()


class MyCertificateSerializer(serializers.Serializer):
    """The only builder of a ``me/certificates`` item (and of the re-issue endpoint's body)."""

    number = serializers.CharField()
    code = serializers.SerializerMethodField()
    course = serializers.SerializerMethodField()
    issued_at = serializers.DateTimeField()
    status = serializers.CharField()
    pdf_url = serializers.SerializerMethodField()
    verify_url = serializers.SerializerMethodField()
    jp = serializers.IntegerField(allow_null=True, help_text=_("Hours of study (jam pelajaran, 45 minutes each)."))
    issuer = serializers.SerializerMethodField(help_text=_("The issuing body."))
    period = serializers.SerializerMethodField()
    signed_by = serializers.CharField(source="signatory_name", help_text=_("The signing official's name."))

    def get_issuer(self, obj) -> str:
        return obj.issuer_name or certificates_setting("ISSUER")

    @extend_schema_field(PeriodSerializer)
    def get_period(self, obj) -> dict:
        return {"starts_on": obj.period_starts_on, "ends_on": obj.period_ends_on}

    credential_url = serializers.SerializerMethodField()

    def get_code(self, obj) -> str:
        return code_display(obj.code)

    def get_course(self, obj) -> dict:
        return {"slug": obj.enrollment.cohort.course.slug, "title": obj.course_title}

    def get_pdf_url(self, obj) -> str:
        request = self.context.get("request")
        path = reverse("api-certificate-pdf", kwargs={"code": code_display(obj.code)})
        return request.build_absolute_uri(path) if request else path

    def get_verify_url(self, obj) -> str:
        return verify_url(obj.code)

    def get_credential_url(self, obj) -> str:
        request = self.context.get("request")
        path = credential_url(obj.code)
        return request.build_absolute_uri(path) if request else path


class VerifySerializer(serializers.Serializer):
    """Documents ``selectors.verification_payload``, the body's only builder (a test keeps the fields equal)."""

    valid = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["valid", "revoked", "not_found"])
    number = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    holder_name = serializers.CharField(required=False)
    holder_nip = serializers.CharField(required=False, help_text=_("Masked: never the full NIP."))
    course = serializers.CharField(required=False)
    cohort = serializers.CharField(required=False)
    issued_at = serializers.DateTimeField(required=False)
    jp = serializers.IntegerField(required=False, allow_null=True, help_text=_("Hours of study (JP)."))
    issuer = serializers.CharField(required=False, help_text=_("The issuing body."))
    period = PeriodSerializer(required=False)
    signed_by = serializers.CharField(required=False, help_text=_("The signing official's name."))
    sealed_by = serializers.CharField(
        required=False, help_text=_("The electronic seal's certificate (its common name); a demo seal says DEMO.")
    )
    revoked_at = serializers.DateTimeField(required=False)
    reason = serializers.CharField(required=False)
    replaced_by = ReplacementSerializer(
        required=False, allow_null=True, help_text=_("Revoked: the certificate re-issued in its place, if any.")
    )


class CredentialVerifyRequestSerializer(serializers.Serializer):
    credential = serializers.CharField(
        max_length=MAX_TOKEN_LENGTH, trim_whitespace=True, help_text=_("The VC-JWT (compact JWS) to check.")
    )


class CredentialVerifySerializer(VerifySerializer):
    """Documents ``credential_store.credential_verification``: the code verification body plus
    ``signature_valid`` (``valid`` is false whenever the signature does not verify)."""

    signature_valid = serializers.BooleanField()


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RevokeResultSerializer(serializers.Serializer):
    """Documents ``selectors.revocation_payload`` (a test keeps the fields equal)."""

    number = serializers.CharField()
    code = serializers.CharField()
    status = serializers.CharField()
    revoked_at = serializers.DateTimeField()
    reason = serializers.CharField()


class ArchiveSerializer(serializers.Serializer):
    """Documents ``selectors.archive_payload`` (a test keeps the fields equal)."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    download_url = serializers.CharField(allow_null=True)


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("The certificate's PDF as received, at most 5 MB."))


class SealSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    signer = serializers.CharField(allow_null=True, help_text=_("The seal certificate's common name."))
    signed_at = serializers.DateTimeField(allow_null=True)


class DocumentVerificationSerializer(serializers.Serializer):
    """Documents ``selectors.document_verification_payload`` (a test keeps the fields equal)."""

    genuine = serializers.BooleanField()
    reason = serializers.ChoiceField(choices=["modified", "unknown"], required=False)
    code = serializers.CharField(required=False)
    number = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=["valid", "revoked"], required=False)
    seal = SealSerializer(required=False)
