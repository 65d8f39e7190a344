"""With DEBUG on, a missing page still shows the site's own 404 page (SHOW_FRIENDLY_404, on by default).

Django shows its technical 404 page (the URL patterns it tried) whenever DEBUG is on, and the local
default is DEBUG on: a new user trying the platform would meet it. Set SHOW_FRIENDLY_404=0 to see it.
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver, resolve


def _friendly() -> bool:
    return settings.DEBUG and getattr(settings, "SHOW_FRIENDLY_404", True)


def _not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    # The host's handler404 (Django's page_not_found, which renders 404.html, unless it set another).
    handler = get_resolver(getattr(request, "urlconf", None)).resolve_error_handler(404)
    return handler(request, exception)


class FriendlyNotFoundMiddleware:
    """Answers with handler404 where Django, in DEBUG, would show its technical page.

    Placed after CommonMiddleware (which adds a missing slash first) and AuthenticationMiddleware (the
    page shows who is signed in). Without DEBUG it does nothing: Django already uses handler404.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _friendly():
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as exc:
                return _not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if _friendly() and isinstance(exception, Http404):
            return _not_found(request, exception)
        return None
