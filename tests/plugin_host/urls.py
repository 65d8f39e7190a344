"""The host's URLs: each app's pages and API included the documented way."""

from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("courses.api.urls")),
    path("api/v1/", include("assessments.api.urls")),
    path("api/v1/", include("certificates.api.urls")),
    path("", include("courses.urls")),
    path("", include("assessments.urls")),
    path("", include("certificates.urls")),
]
