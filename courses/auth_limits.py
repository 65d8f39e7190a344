"""Limits on sign-in attempts (counted by django-axes) and on password-reset emails."""

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cache, get_cache_timeout, get_client_cache_keys, get_cool_off, get_failure_limit
from django.core.cache import cache as default_cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.throttling import BaseThrottle

from .conf import courses_setting
from .dates import time_display
from .validators import login_username_normalize

# axes keys a counter by a hash of its value alone: without a prefix, a username spelled like an IP
# address would share that client's counter, and ten failures under it would lock the client out.
_USERNAME_PREFIX = "username:"


def login_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the normalised name an attempt counts under, so "1985 0101 …" is "19850101…"."""
    if credentials and "username" in credentials:
        raw = credentials["username"]
    else:
        data = getattr(request, "data", None)  # DRF's parsed body, else the form's
        raw = (data if isinstance(data, Mapping) else request.POST).get("username")
    username = login_username_normalize(raw) if raw is not None else ""
    return f"{_USERNAME_PREFIX}{username}" if username else None


def login_client(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the client as every limit of the apps names it (DRF's ``NUM_PROXIES`` rule).

    With ``NUM_PROXIES = 0`` it is the connection's address and X-Forwarded-For is ignored (anyone can
    forge it); behind N trusted proxies it is the address they appended. The verification throttle
    derives its client the same way.
    """
    return BaseThrottle().get_ident(request)


def _window_end_key(counter_key: str) -> str:
    return f"{counter_key}-ends"


class LoginAttemptsCacheHandler(AxesCacheHandler):
    """axes' cache handler that also notes when each counter's window ends, so a lockout can say when.

    Django's cache API cannot read a key's remaining lifetime, and axes only knows the full cool-off.
    Counters and window ends live in the cache axes uses (``AXES_CACHE``, else ``default``): with
    several web processes that must be a shared cache (Redis through ``CACHE_URL``).
    """

    def __init__(self) -> None:
        # No cache is bound at start-up: ``cache`` is looked up on each use, so a changed CACHES applies.
        pass

    @property
    def cache(self):
        return get_cache()

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        # axes sets axes_failures_since_start only when it counted the failure, not when it refused it
        # (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off: a refused attempt never extends the window).
        if request is None or getattr(request, "axes_failures_since_start", None) is None:
            return
        timeout = get_cache_timeout(request)
        if timeout is None:
            return
        ends = time.time() + timeout
        for key in get_client_cache_keys(request, credentials):
            self.cache.set(_window_end_key(key), ends, timeout)


@dataclass(frozen=True)
class Lockout:
    """Sign-in refused: ``retry_after`` seconds until the window ends (None: no cool-off, it never ends)."""

    retry_after: int | None

    @property
    def minutes(self) -> int:
        return math.ceil((self.retry_after or 0) / 60)


def login_lockout(*, request: HttpRequest, username) -> Lockout | None:
    """Whether attempts naming ``username`` from this request's client are refused now, and for how long.

    Reads the counters only; axes' signal handlers count the failures.
    """
    credentials = {"username": username}
    if AxesProxyHandler.is_allowed(request, credentials):
        return None
    return _lockout(request, credentials)


def _lockout(request: HttpRequest, credentials: dict | None) -> Lockout:
    cool_off = get_cool_off(request)
    if cool_off is None:
        return Lockout(retry_after=None)
    store = get_cache()
    limit = get_failure_limit(request, credentials)
    keys = get_client_cache_keys(request, credentials)
    ends = [store.get(_window_end_key(key)) for key in keys if (store.get(key) or 0) >= limit]
    known = [end for end in ends if end is not None]
    longest = int(cool_off.total_seconds())
    if not known:
        # Counted by a handler that keeps no window end: the longest the lock can still last.
        return Lockout(retry_after=longest)
    return Lockout(retry_after=min(longest, max(1, math.ceil(max(known) - time.time()))))


def lockout_message(lockout: Lockout) -> str:
    """The API's ``detail`` for a refused sign-in, in the active language."""
    headline = _("Too many failed sign-in attempts.")
    if lockout.retry_after is None:
        return f"{headline} {_('Ask an operator to unlock your account.')}"
    advice = ngettext("Try again in %(minutes)d minute.", "Try again in %(minutes)d minutes.", lockout.minutes)
    return f"{headline} {advice % {'minutes': lockout.minutes}}"


def lockout_headers(lockout: Lockout) -> dict[str, str]:
    return {} if lockout.retry_after is None else {"Retry-After": str(lockout.retry_after)}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the login page's and the admin's answer to a refused attempt (429)."""
    # axes calls this for the failure that reached the limit too; that attempt was still within the
    # limit and keeps its ordinary answer ("wrong password"): only the attempts after it are refused.
    if original_response is not None and getattr(request, "axes_failures_since_start", None) is not None:
        return original_response
    lockout = _lockout(request, credentials)
    advice = _("Ask an operator to unlock your account.")
    if lockout.retry_after is not None:
        clock = time_display(timezone.now() + timedelta(seconds=lockout.retry_after))
        advice = ngettext(
            "Try again in %(minutes)d minute, at %(time)s.",
            "Try again in %(minutes)d minutes, at %(time)s.",
            lockout.minutes,
        ) % {"minutes": lockout.minutes, "time": clock}
    context = {"headline": _("Too many failed sign-in attempts."), "advice": advice}
    response = render(request, "courses/auth/locked_out.html", context, status=429)
    for header, value in lockout_headers(lockout).items():
        response[header] = value
    return response


def password_reset_email_allowed(*, email: str) -> bool:
    """Claim one of the address's password-reset emails for the window; False once all are claimed.

    Side effect: holds one cache slot for ``COURSES_PASSWORD_RESET_WINDOW_SECONDS``. A slot is taken by
    one atomic ``cache.add``, so concurrent requests (in any web process, the cache being shared) never
    claim more than ``COURSES_PASSWORD_RESET_EMAILS`` between them; and as each slot expires a window
    after it was taken, no window of that length ever holds more. (DRF's throttle history is a
    read-modify-write that a concurrent burst gets through; a fixed window lets twice the limit
    through around its boundary.) Counts every request, whether or not the address has an account.
    """
    digest = sha256(email.strip().lower().encode()).hexdigest()
    window = courses_setting("PASSWORD_RESET_WINDOW_SECONDS")
    slots = range(courses_setting("PASSWORD_RESET_EMAILS"))
    return any(default_cache.add(f"courses:password-reset:{digest}:{slot}", 1, window) for slot in slots)
