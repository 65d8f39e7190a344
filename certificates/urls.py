"""Server-rendered pages of the certificates app."""

from django.urls import path

from . import credential_views, views
from .credentials import STATUS_LIST_PATH

app_name = "certificates"
urlpatterns = [
    path("verify/", views.verify_form, name="verify-form"),
    path("verify/document/", views.verify_document, name="verify-document"),  # before verify/<code>/
    path("verify/<str:code>/", views.verify, name="verify"),
    path("certificates/<str:code>/", views.mine, name="mine"),
    path("certificates/<str:code>/credential.json", credential_views.credential_claims, name="credential-claims"),
    path("operator/cohorts/<int:pk>/certificates/", views.cohort_certificates, name="cohort"),
    path("operator/cohorts/<int:pk>/certificates/archive/", views.archive_create, name="archive-create"),
    path("operator/certificate-archives/<int:pk>/download/", views.archive_download, name="archive-download"),
    path("operator/certificates/<str:code>/revoke/", views.revoke, name="revoke"),
    path("operator/certificates/<str:code>/reissue/", views.reissue, name="reissue"),
    # The issuer's did:web document: at /.well-known/did.json, or at /did.json below the path of a
    # SITE_URL that has one (did:web:host:path resolves to https://host/path/did.json).
    path(".well-known/did.json", credential_views.did_document, name="did-document"),
    path("did.json", credential_views.did_document, name="did-document-path"),
    path(STATUS_LIST_PATH.lstrip("/"), credential_views.status_list, name="status-list"),
]
