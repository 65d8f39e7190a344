"""Email messages the courses app sends, rendered in Indonesian with an English copy below."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .conf import site_url
from .models import ParticipantProfile
from .tokens import invitation_token_generator


def invitation_message(*, profile: ParticipantProfile, connection=None) -> EmailMultiAlternatives:
    user = profile.user
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    link = site_url() + reverse("courses:invitation-accept", kwargs={"uidb64": uid, "token": token})
    context = {"profile": profile, "link": link, "login_url": site_url() + reverse("courses:login")}
    parts = []
    for language in ("id", "en"):
        with translation.override(language):
            parts.append(render_to_string("courses/email/invitation.txt", context).strip())
    with translation.override("id"):
        subject = render_to_string("courses/email/invitation_subject.txt", context).strip()
    body = "\n\n— — —\n\n".join(parts) + "\n"
    return EmailMultiAlternatives(subject=subject, body=body, to=[user.email], connection=connection)
