"""Invitation emails to new participants, sent at most once each."""

from django.core.mail import get_connection
from django.utils import timezone

from ..emails import invitation_message
from ..models import ParticipantProfile


def invitations_send(*, user_ids: list[int]) -> int:
    """Email each new participant a link to set their password; returns how many were sent.

    Idempotent: a participant is claimed (``invited_at`` set) before the email goes out and
    released again if sending fails, so a retried task never emails anyone twice.
    """
    sent = 0
    profiles = ParticipantProfile.objects.filter(user_id__in=user_ids, invited_at__isnull=True).select_related("user")
    with get_connection() as connection:
        for profile in profiles:
            if not ParticipantProfile.objects.filter(pk=profile.pk, invited_at__isnull=True).update(
                invited_at=timezone.now()
            ):
                continue
            try:
                invitation_message(profile=profile, connection=connection).send()
            except Exception:
                ParticipantProfile.objects.filter(pk=profile.pk).update(invited_at=None)
                raise
            sent += 1
    return sent
