"""Project-level views: the health checks that load balancers and operators poll, the 404 answer, the favicon."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.cache import never_cache
from kombu import Connection
from rest_framework.exceptions import NotFound, ParseError


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "down" for a health check
        return "down"
    return "ok"


def _broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            # Redis connects lazily; a round trip proves the broker answers.
            conn.default_channel.client.ping()
    except Exception:  # noqa: BLE001
        return "down"
    return "ok"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    body = {"database": _database_status(), "broker": _broker_status()}
    healthy = all(value in ("ok", "eager") for value in body.values())
    return JsonResponse(body, status=200 if healthy else 503)


def livez(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches neither database nor broker (cheap enough to poll often)."""
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: a URL that matches nothing (``/api/v1/lessons/abc/``) answers in the API's error shape
    under ``/api/``, as the API's own 404s do (the schema declares no HTML); Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(NotFound.default_detail), "code": NotFound.default_code}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: a request Django refuses before any view (e.g. more form fields than
    ``DATA_UPLOAD_MAX_NUMBER_FIELDS``) answers in the API's error shape under ``/api/``."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(ParseError.default_detail), "code": ParseError.default_code}, status=400)
    return defaults.bad_request(request, exception)


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """``/favicon.ico``, where browsers look when a page names no icon, goes to the static file.

    A temporary redirect: the static file's name carries its hash in production and changes with it.
    """
    return HttpResponseRedirect(static("courses/favicon.ico"))
