"""Celery tasks of the certificates app: thin shells around services, taking ids only."""

import logging

from celery import shared_task
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError

from . import services
from .errors import NotCompleted, SealUnavailable

logger = logging.getLogger(__name__)

# Retries back off 5 s, 10 s, 20 s … capped at 300 s: always far below the broker's visibility
# timeout (CELERY_BROKER_TRANSPORT_OPTIONS), or Redis would hand the same message out twice.
RETRY = {
    "autoretry_for": (OperationalError, InterfaceError, IntegrityError, OSError),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(
    bind=True,
    acks_late=True,  # the service is idempotent, so a message may safely run again
    reject_on_worker_lost=True,  # a killed worker puts the message back instead of losing it
    soft_time_limit=120,  # a batch: up to CERTIFICATES_ISSUE_BATCH sealed PDFs
    time_limit=150,
    **RETRY,
)
def certificate_issue_task(self, enrollment_id: int) -> str | None:
    """Issue the certificate of a completed enrolment, in a batch with others completed meanwhile
    (idempotent; poison messages are set aside)."""
    services.issue_queue_clear()  # what completes from now on is not this delivery's to claim
    try:
        certificate = services.certificate_issue_batch(
            enrollment_id=enrollment_id, claim=self.request.id or "", more=next_batch_queue
        )
    except (DatabaseError, SealUnavailable) as exc:
        # A seal that cannot seal (certificates.E002) issues nothing: the sweep tries again later.
        services.issue_failure_record(enrollment_id=enrollment_id, error=repr(exc))
        raise
    return certificate.number if certificate else None


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, soft_time_limit=120, time_limit=150, **RETRY)
def certificates_pending_issue_task(self) -> int:
    """Issue a batch of the enrolments completed without a certificate whose completions sent no
    message of their own (an issuing task was queued already: ``services.issue_task_wanted``);
    queue the next batch when this one was full. Idempotent; how many it issued."""
    services.issue_queue_clear()
    return services.certificate_issue_pending(claim=self.request.id or "", more=next_batch_queue)


def next_batch_queue() -> None:
    """A batch was full: queue the next (the enrolments completed meanwhile may have sent no message)."""
    services.issue_queue_mark()
    try:
        certificates_pending_issue_task.delay()
    except Exception:  # noqa: BLE001 - a broker outage: the sweep issues them once it is back
        services.issue_queue_clear()
        logger.exception("could not queue the next batch of certificates; the sweep will")


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90, **RETRY)
def certificate_correct_task(enrollment_id: int, by_id: int | None = None, changes: dict | None = None) -> str | None:
    """Re-issue the enrolment's certificate after its participant's details were corrected (idempotent)."""
    try:
        certificate = services.certificate_correct(enrollment_id=enrollment_id, by_id=by_id, changes=changes)
    except NotCompleted:
        return None
    return certificate.number if certificate else None


@shared_task(soft_time_limit=120, time_limit=150)
def certificates_sweep_task() -> int:
    """Periodic: enqueue completed enrolments whose issuing message was lost."""
    pending = services.certificates_sweep()
    for enrollment_id in pending:
        certificate_issue_task.delay(enrollment_id)
    if pending:
        logger.info("certificate sweep enqueued %s enrolments", len(pending))
    return len(pending)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=1800, time_limit=1900, **RETRY)
def certificate_archive_task(archive_id: int) -> int:
    """Build a cohort's ZIP of certificates (idempotent)."""
    return services.archive_build(archive_id=archive_id).done


@shared_task(soft_time_limit=60, time_limit=90, **RETRY)
def status_list_publish_task() -> int:
    """Republish the revocation status list (after a revocation, and periodically as a safety net)."""
    from .credential_store import status_list_publish

    return status_list_publish().revoked
