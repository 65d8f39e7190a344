"""Invitations whose message was lost, for the sweep."""

import datetime

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.utils import timezone

from ..conf import courses_setting
from ..models import ParticipantProfile


def invitations_pending() -> list[int]:
    """User ids of recent participants whose invitation never went out (its message was lost).

    Only those who have neither set a password nor logged in, created between
    ``INVITATION_SWEEP_GRACE_SECONDS`` and ``INVITATION_SWEEP_DAYS`` ago, so an address that keeps
    failing is not retried for ever. Reads only."""
    now = timezone.now()
    return list(
        ParticipantProfile.objects.filter(
            invited_at__isnull=True,
            user__last_login__isnull=True,
            user__password__startswith=UNUSABLE_PASSWORD_PREFIX,
            created_at__lte=now - datetime.timedelta(seconds=courses_setting("INVITATION_SWEEP_GRACE_SECONDS")),
            created_at__gte=now - datetime.timedelta(days=courses_setting("INVITATION_SWEEP_DAYS")),
        )
        .order_by("pk")
        .values_list("user_id", flat=True)
    )
