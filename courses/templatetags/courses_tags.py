"""Template helpers of the courses app."""

from django import template

from courses.selectors import user_is_operator

register = template.Library()


@register.filter
def is_operator(user) -> bool:
    # ``operator_required`` marks the user it let through, for this request only.
    return getattr(user, "operator_checked", False) or user_is_operator(user)
