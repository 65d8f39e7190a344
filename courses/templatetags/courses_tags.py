"""Template helpers of the courses app."""

from django import template

from courses.selectors import user_is_operator

register = template.Library()


@register.filter
def is_operator(user) -> bool:
    return user_is_operator(user)
