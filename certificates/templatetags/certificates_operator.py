"""What the certificates app shows on courses' operator participant page (an extension template)."""

from django import template

from ..codes import code_display
from ..selectors import certificates_of_enrollment

register = template.Library()


@register.simple_tag
def enrollment_certificates_list(enrollment):
    return [
        {"certificate": certificate, "code": code_display(certificate.code)}
        for certificate in certificates_of_enrollment(enrollment_id=enrollment.pk)
    ]
