"""Permissions of the courses API."""

from rest_framework.permissions import BasePermission

from courses.selectors import user_is_operator


class IsOperator(BasePermission):
    """Operators: superusers and members of the operators group."""

    def has_permission(self, request, view) -> bool:
        return user_is_operator(request.user)


class IsParticipant(BasePermission):
    """Participants: users with a participant profile."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user.is_authenticated and hasattr(request.user, "participant_profile"))
