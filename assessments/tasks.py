"""Celery tasks of the assessments app; thin shells around services."""

from celery import shared_task
from django.db import OperationalError

from .services import attempts_expire_due


@shared_task(
    name="assessments.tasks.attempts_expire_task",
    # Idempotent (each attempt is closed at most once), so a redelivered message is harmless.
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    # A large backlog may take several runs; overlapping runs are safe (row locks, conditional updates).
    soft_time_limit=240,
    time_limit=300,
    # Beat sends one every minute; an older message that waited in the queue is obsolete.
    expires=55,
)
def attempts_expire_task() -> int:
    """Periodic sweep: close and grade the attempts whose time ran out without a submit."""
    return attempts_expire_due()
