"""Who is an operator, and which accounts an import must never change."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Q

from ..conf import courses_setting


def user_is_operator(user) -> bool:
    """Operators run cohorts: superusers and members of the operators group."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=courses_setting("OPERATORS_GROUP")).exists()


def privileged_user_ids(*, user_ids: Iterable[int]) -> set[int]:
    """Of ``user_ids``, the staff, superusers and operators (one query): accounts an import never changes.

    Operators as :func:`user_is_operator` defines them, plus staff, whom Django's admin lets in.
    Active or not: a deactivated administrator can be reactivated, so their account stays guarded.
    """
    User = get_user_model()
    privileged = Q(is_staff=True) | Q(is_superuser=True) | Q(groups__name=courses_setting("OPERATORS_GROUP"))
    return set(User.objects.filter(privileged, pk__in=list(user_ids)).values_list("pk", flat=True).distinct())
