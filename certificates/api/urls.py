"""API routes of the certificates app; a host mounts them under /api/v1/."""

from django.urls import path

from . import credential_views, views

urlpatterns = [
    # The busiest public read first: fewer patterns to try before it. verify/document/ and
    # verify/credential/ come before verify/<code>/, which would take "document" for a code.
    path("verify/document/", views.VerifyDocumentView.as_view(), name="api-verify-document"),
    path("verify/credential/", credential_views.CredentialVerifyView.as_view(), name="api-verify-credential"),
    path("verify/<str:code>/", views.verify, name="api-verify"),
    path("me/certificates/", views.MyCertificatesView.as_view(), name="api-my-certificates"),
    path("certificates/<str:code>/pdf/", views.CertificatePdfView.as_view(), name="api-certificate-pdf"),
    path("certificates/<str:code>/revoke/", views.RevokeView.as_view(), name="api-certificate-revoke"),
    path("certificates/<str:code>/reissue/", views.ReissueView.as_view(), name="api-certificate-reissue"),
    path(
        "certificates/<str:code>/credential/",
        credential_views.CredentialView.as_view(),
        name="api-certificate-credential",
    ),
    path("cohorts/<int:pk>/certificates/archive/", views.CohortArchiveView.as_view(), name="api-cohort-archive"),
    path("certificate-archives/<int:pk>/", views.ArchiveStatusView.as_view(), name="api-archive-status"),
]
