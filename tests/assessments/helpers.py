"""Small helpers shared by the assessments tests."""

import datetime

from django.utils import timezone

from assessments.models import Attempt


def move_deadline(attempt: Attempt, *, seconds_from_now: float) -> Attempt:
    """Time travel without sleeping: put the attempt's ``expires_at`` this many seconds from now."""
    expires_at = timezone.now() + datetime.timedelta(seconds=seconds_from_now)
    started_at = min(attempt.started_at, expires_at - datetime.timedelta(minutes=10))
    Attempt.objects.filter(pk=attempt.pk).update(started_at=started_at, expires_at=expires_at)
    attempt.refresh_from_db()
    return attempt
