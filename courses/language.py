"""The language a participant chose, kept on their profile so that signing in on another device keeps it.

Django remembers the choice in a cookie (``LANGUAGE_COOKIE_AGE``); a cookie stays on one browser.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_supported_language_variant
from django.views.i18n import set_language as django_set_language

from .models import ParticipantProfile


def _supported(language: str | None) -> str | None:
    if not language:
        return None
    try:
        return get_supported_language_variant(language)
    except LookupError:
        return None


def language_preference_save(*, user, language: str) -> bool:
    """Keep ``language`` (one of ``LANGUAGES``) on the user's participant profile.

    Side effect: one UPDATE of the profile, none for a user without one or an unknown language.
    Idempotent. Returns whether a profile now holds it.
    """
    chosen = _supported(language)
    if chosen is None or not getattr(user, "is_authenticated", False):
        return False
    return ParticipantProfile.objects.filter(user_id=user.pk).update(language=chosen) > 0


def language_preference(*, user) -> str | None:
    """The language kept on the user's participant profile, if any (and still one of ``LANGUAGES``)."""
    profile = getattr(user, "participant_profile", None) if getattr(user, "is_authenticated", False) else None
    return _supported(profile.language) if profile is not None else None


def set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (the cookie, the redirect), and a POSTed choice kept for a signed-in participant."""
    response = django_set_language(request)
    if request.method == "POST":
        language_preference_save(user=request.user, language=request.POST.get("language", ""))
    return response


class LoginView(auth_views.LoginView):
    """Django's login, and the language: a browser that has no choice yet gets the participant's.

    A browser that already holds a choice (its cookie) keeps it, and the profile takes it: the latest
    choice made on a device wins over one made elsewhere before.
    """

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        chosen_here = _supported(self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
        if chosen_here:
            language_preference_save(user=user, language=chosen_here)
        else:
            kept = language_preference(user=user)
            if kept:
                set_language_cookie(response, kept)
        return response
