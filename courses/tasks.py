"""Celery tasks of the courses app: thin shells around services, taking ids only."""

from smtplib import SMTPException

from celery import shared_task

from . import services


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=300,
    time_limit=360,
)
def invitations_send_task(user_ids: list[int]) -> int:
    """Send invitation emails to new participants (idempotent: nobody is emailed twice)."""
    return services.invitations_send(user_ids=list(user_ids))
