"""Code verification through the lean handler (config/routing.py) answers as through the full middleware."""

import io
import sys

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from certificates.codes import code_display
from certificates.services import certificate_revoke
from certificates.throttles import VerifyThrottle
from config.routing import SKIPPED, VerificationRouting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    # No window boundary between two requests compared, the same Retry-After for both.
    monkeypatch.setattr(VerifyThrottle, "timer", staticmethod(lambda: 1_800_000_005.0))


@pytest.fixture
def handlers():
    """The full handler and the routing around it; as Django's test client does, requests keep the
    test's database connection (the handlers close it when a request finishes)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    full = WSGIHandler()
    yield full, VerificationRouting(full)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def call(application, path: str, *, method: str = "GET", query: str = "", **headers) -> tuple[str, dict, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"], started["headers"] = status, response_headers

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    headers = {}
    for name, value in started["headers"]:
        headers.setdefault(name.lower(), []).append(value)
    return started["status"], headers, body


def requests(code: str) -> list[tuple[str, dict]]:
    """What a verifier, a scanner or a prober may send to verification, as (path, options)."""
    path = f"/api/v1/verify/{code}/"
    return [
        (path, {}),
        (path, {"method": "HEAD"}),
        (path.lower(), {"accept_language": "en"}),
        (path, {"accept": "text/html"}),  # 406, DRF's
        (path, {"accept": "application/json; indent=2"}),
        (path, {"query": "format=json"}),
        (path, {"cookie": "sessionid=" + "s" * 32 + "; csrftoken=" + "a" * 32}),  # a signed-in browser's
        ("/api/v1/verify/0000-0000-0000/", {}),  # unknown: 404
        ("/api/v1/verify/not-a-code/", {}),
        ("/api/v1/verify/document/", {}),  # POST only: 405
        ("/api/v1/verify/credential/", {}),
        (path, {"user_agent": "scanner\x00"}),  # a NUL: 400
        (path, {"host": "elsewhere.example"}),  # not in ALLOWED_HOSTS: 400
    ]


def test_every_verification_answer_is_the_same_through_both_handlers(handlers, issued, operator, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    full, routed = handlers
    code = code_display(issued.code)
    for certificate_state in ("valid", "revoked"):
        if certificate_state == "revoked":
            certificate_revoke(certificate=issued, reason="Nama salah", by=operator)
        for path, options in requests(code):
            cache.clear()  # each compared with the same cache: the first request reads the database
            through_full = call(full, path, **options)
            cache.clear()
            through_lean = call(routed, path, **options)
            assert through_lean == through_full, (certificate_state, path, options)
    status, headers, body = through_lean
    assert status.startswith("400")  # the last request: a host not allowed


def test_a_throttled_client_gets_the_same_429_through_both(handlers, issued, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"verify": "1/minute"}}
    full, routed = handlers
    path = f"/api/v1/verify/{code_display(issued.code)}/"
    answers = []
    for application in (full, routed):
        cache.clear()
        assert call(application, path)[0] == "200 OK"
        answers.append(call(application, path))
    assert answers[0] == answers[1]
    status, headers, body = answers[1]
    assert status.startswith("429") and headers["retry-after"] == ["55"] and b'"throttled"' in body


def test_only_gets_of_verification_take_the_lean_handler(handlers, monkeypatch):
    full, routed = handlers
    taken = []
    monkeypatch.setattr(routed, "lean", lambda environ, start_response: taken.append(environ["PATH_INFO"]) or [])
    monkeypatch.setattr(routed, "application", lambda environ, start_response: [])
    for path, method in [
        ("/api/v1/verify/ABCD-EFGH-JKMN/", "GET"),
        ("/api/v1/verify/abcd/", "HEAD"),
        ("/api/v1/verify/ABCD-EFGH-JKMN/", "POST"),
        ("/api/v1/verify/ABCD-EFGH-JKMN/", "OPTIONS"),
        ("/api/v1/verify/ABCD-EFGH-JKMN", "GET"),  # CommonMiddleware's slash redirect
        ("/api/v1/verify/", "GET"),
        ("/api/v1/verify//", "GET"),
        ("/api/v1/verify/ABCD/pdf/", "GET"),
        ("/livez", "GET"),
        ("/verify/ABCD-EFGH-JKMN/", "GET"),  # the page: sessions, language choice, messages
    ]:
        routed({"PATH_INFO": path, "REQUEST_METHOD": method}, None)
    assert taken == ["/api/v1/verify/ABCD-EFGH-JKMN/", "/api/v1/verify/abcd/"]


def test_the_lean_handler_runs_the_projects_middleware_less_the_skipped(handlers, settings):
    lean = handlers[1].lean
    loaded = []
    handler = lean._middleware_chain
    while hasattr(handler, "__wrapped__") or hasattr(handler, "get_response"):
        handler = getattr(handler, "__wrapped__", handler)
        if not hasattr(handler, "get_response"):
            break
        loaded.append(f"{type(handler).__module__}.{type(handler).__qualname__}")
        handler = handler.get_response
    assert loaded == [path for path in settings.MIDDLEWARE if path not in SKIPPED]
    assert SKIPPED < set(settings.MIDDLEWARE)  # every name skipped is one the project has
    assert handlers[0]._middleware_chain is not lean._middleware_chain


def test_a_malformed_session_or_csrf_cookie_is_left_to_the_next_page(handlers, issued):
    """The one difference (config/routing.py): the full chain would answer them with a cookie that
    drops or replaces them; verification's answer is the same as without them."""
    path = f"/api/v1/verify/{code_display(issued.code)}/"
    full, routed = handlers
    for cookie in ("sessionid=abc", "csrftoken=not-a-token"):
        assert "set-cookie" in call(full, path, cookie=cookie)[1]
        status, headers, body = call(routed, path, cookie=cookie)
        assert (status, headers, body) == call(routed, path)
