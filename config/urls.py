"""Root URL configuration: the three apps, the API schema, admin and health check."""

from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from courses.language import set_language

from .views import favicon, healthz, livez

# Swagger UI's start-up script is served by the same URL (?script=), so the page holds no inline script.
api_docs = SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs/swagger_ui.html")
# ReDoc builds its search index in a Web Worker it starts from a blob: URL; only this page allows that.
api_redoc = csp_update({"worker-src": ["blob:"]})(
    SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html")
)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    # Django's set_language, and a participant's choice also kept on their profile.
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", api_docs, name="api-docs"),
    path("api/v1/redoc/", api_redoc, name="api-redoc"),
    path("api/v1/", include("courses.api.urls")),
    path("api/v1/", include("assessments.api.urls")),
    path("api/v1/", include("certificates.api.urls")),
    path("", include("courses.urls")),
    path("", include("assessments.urls")),
    path("", include("certificates.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

admin.site.site_header = _("GCIO Training Platform administration")
admin.site.site_title = _("GCIO administration")
