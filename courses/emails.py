"""Email messages the courses app sends, rendered in Indonesian with an English copy below."""

from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .conf import courses_setting, site_url
from .models import Enrollment, ModuleProgress, ParticipantProfile
from .tokens import invitation_token_generator


def bilingual_text(template_name: str, context: dict) -> str:
    """The template rendered in Indonesian, then in English below a separator (every email the app sends)."""
    parts = []
    for language in ("id", "en"):
        with translation.override(language):
            parts.append(render_to_string(template_name, context).strip())
    return "\n\n— — —\n\n".join(parts) + "\n"


def invitation_message(*, profile: ParticipantProfile, connection=None) -> EmailMultiAlternatives:
    user = profile.user
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    link = site_url() + reverse("courses:invitation-accept", kwargs={"uidb64": uid, "token": token})
    context = {"profile": profile, "link": link, "login_url": site_url() + reverse("courses:login")}
    with translation.override("id"):
        subject = render_to_string("courses/email/invitation_subject.txt", context).strip()
    body = bilingual_text("courses/email/invitation.txt", context)
    return EmailMultiAlternatives(subject=subject, body=body, to=[user.email], connection=connection)


def help_recipients(cohort) -> list[str]:
    """The cohort's contact email or, without one, the active operators' (superusers included)."""
    if cohort.contact_email:
        return [cohort.contact_email]
    operators = get_user_model().objects.filter(
        Q(is_superuser=True) | Q(groups__name=courses_setting("OPERATORS_GROUP")), is_active=True
    )
    return sorted(set(operators.exclude(email="").values_list("email", flat=True)))


def help_needed_message(*, progress: ModuleProgress, connection=None) -> EmailMultiAlternatives | None:
    """The email telling the operator that a participant is stuck in a module; None without a recipient."""
    enrollment = progress.enrollment
    recipients = help_recipients(enrollment.cohort)
    if not recipients:
        return None
    context = {
        "participant": enrollment.participant,
        "cohort": enrollment.cohort,
        "module": progress.module,
        "progress_url": site_url() + reverse("courses:operator-progress", args=[enrollment.cohort_id]),
    }
    with translation.override("id"):
        subject = render_to_string("courses/email/help_needed_subject.txt", context).strip()
    body = bilingual_text("courses/email/help_needed.txt", context)
    return EmailMultiAlternatives(subject=subject, body=body, to=recipients, connection=connection)


def reminder_message(*, enrollment: Enrollment, progress_percent: int, connection=None) -> EmailMultiAlternatives:
    """A short reminder to a participant behind the cohort's pace: their progress and one link."""
    profile = enrollment.participant
    context = {
        "profile": profile,
        "cohort": enrollment.cohort,
        "course": enrollment.cohort.course,
        "progress_percent": progress_percent,
        "link": site_url() + reverse("courses:enrollment", args=[enrollment.pk]),
    }
    with translation.override("id"):
        subject = render_to_string("courses/email/reminder_subject.txt", context).strip()
    body = bilingual_text("courses/email/reminder.txt", context)
    return EmailMultiAlternatives(subject=subject, body=body, to=[profile.user.email], connection=connection)
