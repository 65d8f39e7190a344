"""The host's URLs: each installed app's pages and API included the documented way."""

from django.apps import apps
from django.urls import include, path

APPS = [app for app in ("courses", "assessments", "certificates") if apps.is_installed(app)]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    *(path("api/v1/", include(f"{app}.api.urls")) for app in APPS),
    *(path("", include(f"{app}.urls")) for app in APPS),
]
