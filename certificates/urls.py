"""Server-rendered pages of the certificates app."""

from django.urls import path

from . import views

app_name = "certificates"
urlpatterns = [
    path("verify/", views.verify_form, name="verify-form"),
    path("verify/document/", views.verify_document, name="verify-document"),  # before verify/<code>/
    path("verify/<str:code>/", views.verify, name="verify"),
    path("certificates/<str:code>/", views.mine, name="mine"),
    path("operator/cohorts/<int:pk>/certificates/", views.cohort_certificates, name="cohort"),
    path("operator/cohorts/<int:pk>/certificates/archive/", views.archive_create, name="archive-create"),
    path("operator/certificate-archives/<int:pk>/download/", views.archive_download, name="archive-download"),
    path("operator/certificates/<str:code>/revoke/", views.revoke, name="revoke"),
    path("operator/certificates/<str:code>/reissue/", views.reissue, name="reissue"),
]
