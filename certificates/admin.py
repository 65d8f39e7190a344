"""Django admin for certificates: per-course settings, search by number, code and NIP, PDF read-only, revoke."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from courses.admin import ReadOnlyAdmin

from .codes import code_display, code_normalize
from .errors import CertificatesError
from .models import (
    Certificate,
    CertificateArchive,
    CertificateSettings,
    CohortSignatory,
    Credential,
    IssueJob,
    NumberCounter,
    StatusList,
)
from .services import certificate_revoke, issue_jobs_retry


@admin.register(CertificateSettings)
class CertificateSettingsAdmin(admin.ModelAdmin):
    list_display = ("course", "number_prefix", "issuer_name", "jp", "signatory_name")
    search_fields = ("course__title", "course__slug", "number_prefix")
    fieldsets = (
        (None, {"fields": ("course", "title", "number_prefix", "jp")}),
        (_("Issuing body"), {"fields": ("issuer_name", "issuer_logo", "issue_place")}),
        (
            _("Signing official"),
            {
                "fields": ("signatory_name", "signatory_position", "signatory_nip", "signatory_rank"),
                "description": _("A cohort may have its own signing official (Cohorts' signing officials)."),
            },
        ),
    )


@admin.register(CohortSignatory)
class CohortSignatoryAdmin(admin.ModelAdmin):
    list_display = ("cohort", "signatory_name", "signatory_position")
    search_fields = ("cohort__name", "cohort__course__title", "signatory_name", "signatory_nip")
    autocomplete_fields = ("cohort",)


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ("number", "display_code", "holder_name", "holder_nip", "course_title", "status", "issued_at")
    list_filter = ("status", "course_title", "cohort_name")
    search_fields = ("number", "code", "holder_nip", "holder_name")
    date_hierarchy = "issued_at"
    actions = ["revoke_selected"]
    readonly_fields = [f.name for f in Certificate._meta.fields] + ["pdf_link", "display_code"]
    fields = (
        "number",
        "display_code",
        "status",
        "title",
        "holder_name",
        "holder_nip",
        "holder_position",
        "holder_unit",
        "course_title",
        "cohort_name",
        "period_starts_on",
        "period_ends_on",
        "jp",
        "issuer_name",
        "issue_place",
        "signatory_name",
        "signatory_position",
        "signatory_nip",
        "signatory_rank",
        "issued_at",
        "pdf_link",
        "sha256",
        "seal_signer",
        "replaces",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
        "enrollment",
    )

    def get_search_results(self, request, queryset, search_term):
        # Codes are found however they are typed: with dashes, in lower case.
        code = code_normalize(search_term)
        if code:
            return queryset.filter(code=code), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request) -> bool:
        return False  # certificates are issued by the platform only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: a deleted certificate would verify as "not found"

    @admin.display(description=_("verification code"), ordering="code")
    def display_code(self, obj: Certificate) -> str:
        return code_display(obj.code)

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj: Certificate) -> str:
        from django.urls import reverse

        return format_html(
            '<a href="{}">{}</a>', reverse("api-certificate-pdf", args=[code_display(obj.code)]), obj.pdf.name
        )

    @admin.action(description=_("Revoke selected certificates"))
    def revoke_selected(self, request, queryset):
        if "apply" in request.POST:
            form = RevokeForm(request.POST)
            if form.is_valid():
                revoked = 0
                for certificate in queryset:
                    try:
                        certificate_revoke(certificate=certificate, reason=form.cleaned_data["reason"], by=request.user)
                        revoked += 1
                    except CertificatesError as exc:
                        self.message_user(request, f"{certificate.number}: {exc.message}", messages.WARNING)
                self.message_user(request, _("%(count)d certificate(s) revoked.") % {"count": revoked})
                return None
        else:
            form = RevokeForm()
        return render(
            request,
            "certificates/admin_revoke.html",
            {**self.admin_site.each_context(request), "certificates": queryset, "form": form, "opts": self.model._meta},
        )


@admin.register(IssueJob)
class IssueJobAdmin(admin.ModelAdmin):
    list_display = ("enrollment", "deliveries", "attempts", "last_started_at", "failed_at")
    list_filter = ("failed_at",)
    search_fields = ("enrollment__participant__nip",)
    raw_id_fields = ("enrollment",)
    readonly_fields = ("deliveries", "attempts", "last_started_at", "last_swept_at", "failed_at", "last_error")
    actions = ["retry_issuing"]

    def has_add_permission(self, request) -> bool:
        return False  # jobs are the workers' record; the sweep and the action start them

    @admin.action(description=_("Retry issuing the selected certificates"), permissions=["change"])
    def retry_issuing(self, request, queryset):
        count = issue_jobs_retry(enrollment_ids=list(queryset.values_list("enrollment_id", flat=True)))
        self.message_user(request, _("%(count)d job(s) enqueued again.") % {"count": count})


@admin.register(NumberCounter)
class NumberCounterAdmin(admin.ModelAdmin):
    list_display = ("prefix", "year", "last")
    readonly_fields = ("prefix", "year", "last")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CertificateArchive)
class CertificateArchiveAdmin(admin.ModelAdmin):
    list_display = ("cohort", "status", "done", "total", "created_at", "finished_at")
    readonly_fields = ("cohort", "requested_by", "status", "done", "total", "file", "error", "finished_at")


@admin.register(Credential)
class CredentialAdmin(ReadOnlyAdmin):
    """Signed credentials, for looking up a status list index; nothing here can be changed (nor deleted: an
    index is never given again, and the credential is the certificate's)."""

    list_display = ("certificate", "status_index", "key_id", "created_at")
    search_fields = ("certificate__number",)
    readonly_fields = [f.name for f in Credential._meta.fields]
    list_select_related = ("certificate",)


@admin.register(StatusList)
class StatusListAdmin(ReadOnlyAdmin):
    list_display = ("name", "revoked", "updated_at", "key_id")
    readonly_fields = [f.name for f in StatusList._meta.fields]
