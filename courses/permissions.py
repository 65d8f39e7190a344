"""Who may do what, for pages and API views of every app: operators and participants."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.permissions import BasePermission

from .selectors import user_is_operator

__all__ = ["IsOperator", "IsParticipant", "operator_required", "user_is_operator"]


def operator_required(view):
    """Signed-in operators only: others are sent to log in, or refused with 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_is_operator(request.user):
            raise PermissionDenied
        # The page's menu asks again (``is_operator``): this request's user has just been checked.
        request.user.operator_checked = True
        return view(request, *args, **kwargs)

    return wrapper


class IsOperator(BasePermission):
    """Operators: superusers and members of the operators group."""

    def has_permission(self, request, view) -> bool:
        return user_is_operator(request.user)


class IsParticipant(BasePermission):
    """Participants: users with a participant profile."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user.is_authenticated and hasattr(request.user, "participant_profile"))
