"""Celery tasks of the courses app: thin shells around services, taking ids only."""

import logging
from smtplib import SMTPException

from celery import shared_task

from . import selectors, services
from .conf import courses_setting

logger = logging.getLogger(__name__)

# The email tasks' retries: a mail server that is down or slow is tried again, backing off 30 s,
# 60 s … capped at 600 s.
EMAIL_RETRY = {
    "autoretry_for": (SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(soft_time_limit=300, time_limit=360, **EMAIL_RETRY)
def invitations_send_task(user_ids: list[int]) -> int:
    """Send invitation emails to new participants (idempotent: nobody is emailed twice)."""
    return services.invitations_send(user_ids=list(user_ids))


@shared_task(soft_time_limit=60, time_limit=90)
def invitations_sweep_task() -> int:
    """Periodic (beat): enqueue the invitations whose message was lost; returns how many people."""
    user_ids = selectors.invitations_pending()
    for start in range(0, len(user_ids), 500):
        invitations_send_task.delay(user_ids[start : start + 500])
    if user_ids:
        logger.info("re-enqueued %d lost invitations", len(user_ids))
    return len(user_ids)


@shared_task(soft_time_limit=120, time_limit=180)
def enrollment_uploads_purge_task() -> int:
    """Periodic (beat): delete enrolment files left staged by operators who never confirmed; returns how many."""
    deleted = services.enrollment_uploads_purge()
    if deleted:
        logger.info("deleted %d stale staged enrolment files", deleted)
    return deleted


@shared_task(soft_time_limit=60, time_limit=90, **EMAIL_RETRY)
def module_help_notify_task(progress_id: int) -> bool:
    """Tell the operator that a participant needs help with a module (idempotent: one email per time)."""
    return services.module_help_notify(progress_id=progress_id)


@shared_task(soft_time_limit=60, time_limit=90)
def module_help_sweep_task() -> int:
    """Periodic (beat): enqueue the operator's "needs help" emails whose message was lost; returns how many."""
    progress_ids = selectors.module_help_pending()
    for progress_id in progress_ids:
        module_help_notify_task.delay(progress_id)
    if progress_ids:
        logger.info("re-enqueued %d lost help notifications", len(progress_ids))
    return len(progress_ids)


@shared_task(soft_time_limit=300, time_limit=360, **EMAIL_RETRY)
def participant_messages_send_task(message_ids: list[int]) -> int:
    """Send a batch of claimed invitations and reminders (idempotent: nobody is emailed twice)."""
    return services.participant_messages_send(message_ids=list(message_ids))


@shared_task(soft_time_limit=600, time_limit=660)
def reminders_schedule_task() -> int:
    """Periodic (beat): remind the participants behind pace in running cohorts whose reminder is due
    (every ``REMINDER_EVERY_DAYS``, unless switched off); returns how many were queued."""
    queued = services.scheduled_reminders_send(every_days=courses_setting("REMINDER_EVERY_DAYS"))
    if queued:
        logger.info("queued %d scheduled reminders", queued)
    return queued
