"""Public code verification served by a handler without the middleware it never uses.

``GET /api/v1/verify/{code}/`` is the site's busiest public read, answered from the cache in one Redis
round trip; the middleware it does not need cost a sixth of its time in-process. It needs what every answer
carries (the security headers, the Content-Security-Policy, the language and its ``Vary``, host
validation and ``Content-Length``, ``X-Frame-Options``, the NUL check), and none of what ``SKIPPED``
names: it reads no session and no user, shows no message, takes no form, is no sign-in and no static
file. The lean handler runs ``settings.MIDDLEWARE`` in its order less ``SKIPPED``, so a middleware
added later runs on verification too unless it is named here; tests/certificates/test_lean_verification.py
checks that both handlers answer alike. The one difference: a malformed session or CSRF cookie is
not answered with a cookie that drops or replaces it (verification uses neither; the next page does).
"""

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.urls import get_script_prefix, reverse

SKIPPED = frozenset(
    {
        "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, never under /api/
        "django.contrib.sessions.middleware.SessionMiddleware",  # no session read or written
        "django.middleware.csrf.CsrfViewMiddleware",  # GET and HEAD only, and the view is csrf_exempt
        "django.contrib.auth.middleware.AuthenticationMiddleware",  # the view authenticates nobody
        "django.contrib.messages.middleware.MessageMiddleware",  # no message shown
        "axes.middleware.AxesMiddleware",  # sign-in lockouts
    }
)


class LeanHandler(WSGIHandler):
    """Django's WSGI handler with the project's middleware less ``SKIPPED``."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django's own loading (its adaptation, MiddlewareNotUsed, the process_* hooks) on the
        # shorter list: it reads the list from the settings, so they name it while it loads (once,
        # when the application is made, before it serves anything).
        middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = [path for path in middleware if path not in SKIPPED]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = middleware


class VerificationRouting:
    """The WSGI application: GET and HEAD of ``/api/v1/verify/{one segment}/`` go to the lean
    handler, everything else to ``application`` (the segment is a code, or ``document`` and
    ``credential``, whose views take POST and answer these methods 405 either way)."""

    def __init__(self, application: WSGIHandler) -> None:
        self.application = application
        self.lean = LeanHandler()
        # Where the URLconf mounts verification, as PATH_INFO shows it (without the script prefix).
        mounted = reverse("api-verify", kwargs={"code": "-"})
        self.prefix = "/" + mounted[len(get_script_prefix()) : -len("-/")]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if (
            environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and path.startswith(self.prefix)
            and path.find("/", len(self.prefix)) == len(path) - 1
            and len(path) > len(self.prefix) + 1
        ):
            return self.lean(environ, start_response)
        return self.application(environ, start_response)
