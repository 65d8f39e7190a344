"""Root URL configuration: the three apps, the API schema, admin and health check."""

from csp.constants import NONCE
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
# What ReDoc (drf-spectacular-sidecar 2026.10.1) needs beyond the site's policy, on its page only: a Web
# Worker started from a blob: URL (its search index); <style> elements, which carry the page's nonce,
# except two the bundle inserts as it loads, before it knows the nonce (an empty one and its base
# stylesheet: their hashes); and the Redocly logo its side menu loads from Redocly's site (it hides
# the logo when the image fails). A newer ReDoc may need other hashes: the browser test says so.
REDOC_CSP = {
    "style-src": [
        NONCE,
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    ],
    "worker-src": ["blob:"],
    "img-src": ["https://cdn.redoc.ly/redoc/logo-mini.svg"],
}
api_redoc = csp_update(REDOC_CSP)(SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html"))

handler400 = "config.views.bad_request"
handler404 = "config.views.not_found"

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
    # Certificates first: public verification is the busiest route, and no pattern overlaps another app's.
    path("api/v1/", include("certificates.api.urls")),
    path("api/v1/", include("courses.api.urls")),
    path("api/v1/", include("assessments.api.urls")),
    path("", include("courses.urls")),
    path("", include("assessments.urls")),
    path("", include("certificates.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

admin.site.site_header = _("GCIO Training Platform administration")
admin.site.site_title = _("GCIO administration")
