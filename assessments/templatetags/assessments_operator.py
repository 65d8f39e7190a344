"""What the assessments app shows on courses' operator participant page (an extension template)."""

from django import template

from ..selectors import enrollment_quiz_records

register = template.Library()


@register.simple_tag
def quiz_records(enrollment):
    return enrollment_quiz_records(enrollment=enrollment)
