"""Refuses requests that carry a NUL character in their text (400), before any view can pass it to the database."""

import json
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

NUL = "\x00"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(values: Iterable) -> bool:
    return any(NUL in value for value in values if isinstance(value, str))


def _json_has_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return _has_nul(value) or any(_json_has_nul(item) for item in value.values())
    if isinstance(value, list):
        return any(_json_has_nul(item) for item in value)
    return False


def _query_dict_has_nul(query) -> bool:
    return any(NUL in key or _has_nul(values) for key, values in query.lists())


def _is_api_view(view_func: Callable) -> bool:
    from rest_framework.views import APIView

    view_class = getattr(view_func, "cls", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


class RejectNullCharactersMiddleware:
    """Answer ``400`` to any request with a NUL character (U+0000) in its text input.

    PostgreSQL text cannot hold a NUL: a lookup or a write with one fails with ``DataError``, a
    500, wherever the value reaches a query (a search box, a slug, a session cookie, a token).
    No legitimate input has one (HTTP forbids it in header fields, HTML forms cannot type it), so
    one mechanism refuses it for every page and API endpoint instead of each field guarding it.

    Checked: the URL path (a path that matches no URL stays a 404), the query string, every header
    and cookie, urlencoded form bodies, JSON bodies, and multipart form fields for the views
    Django's CSRF protection covers (``CsrfViewMiddleware`` has already parsed them; placed after
    it, this adds no parsing). Uploaded files are not text: Django strips NUL from their names and
    their contents are their readers' business. Multipart bodies of DRF views are parsed by DRF
    itself, with the view's own upload handling; their serializers refuse NUL in their fields
    (DRF's ``CharField`` does so itself; a related field needs ``NullSafeSlugRelatedField``).

    The answer is the API's error shape ``{"detail": …, "code": "null_character"}`` for DRF views,
    plain text for pages, in the request's language. A host project adds it to ``MIDDLEWARE`` after ``CsrfViewMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args, view_kwargs) -> HttpResponse | None:
        if self._request_has_nul(request, view_func):
            return self._refuse(view_func)
        return None

    def _request_has_nul(self, request: HttpRequest, view_func: Callable) -> bool:
        if NUL in request.path_info or _query_dict_has_nul(request.GET):
            return True
        if _has_nul(request.META.get(key) for key in request.META if key.startswith("HTTP_") or key == "CONTENT_TYPE"):
            return True
        if _has_nul(request.COOKIES) or _has_nul(request.COOKIES.values()):
            return True
        content_type = request.content_type or ""
        if content_type == "application/json" or content_type.endswith("+json"):
            return self._json_body_has_nul(request)
        if request.method == "POST" and content_type in _FORM_TYPES:
            if content_type == "multipart/form-data" and getattr(view_func, "csrf_exempt", False):
                return False  # DRF parses these with the view's own parsers; see the docstring
            return _query_dict_has_nul(request.POST)
        return False

    @staticmethod
    def _json_body_has_nul(request: HttpRequest) -> bool:
        body = request.body
        if b"\x00" in body:
            return True
        if b"\\u0000" not in body:
            return False  # the only other way to write a NUL in JSON; skips parsing ordinary bodies
        try:
            return _json_has_nul(json.loads(body))
        except ValueError:
            return False  # not JSON after all: the view's parser says so

    @staticmethod
    def _refuse(view_func: Callable) -> HttpResponse:
        message = _("The request contains a NUL character, which no field accepts.")
        if _is_api_view(view_func):
            return JsonResponse({"detail": message, "code": "null_character"}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
