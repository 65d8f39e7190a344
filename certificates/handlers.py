"""Receivers of courses' signals; each only enqueues this app's task or calls its own service."""

import logging

from django.db import transaction
from django.dispatch import receiver

from courses.signals import course_completed, curriculum_course_loaded, demo_seeded, participant_corrected

logger = logging.getLogger(__name__)


def _enqueue(enrollment_id: int) -> None:
    from .services import issue_queue_clear, issue_task_wanted
    from .tasks import certificate_issue_task

    if not issue_task_wanted():
        return  # an issuing task is queued and not started: it claims this completion too
    try:
        certificate_issue_task.delay(enrollment_id)
    except Exception:  # noqa: BLE001 - a broker outage must not fail the participant's request
        # The completion is saved; the periodic sweep issues the certificate once the broker is back.
        issue_queue_clear()
        logger.exception("could not enqueue the certificate of enrolment %s; the sweep will", enrollment_id)


@receiver(course_completed, dispatch_uid="certificates.issue_on_completion")
def issue_on_completion(sender, *, enrollment_id: int, **kwargs) -> None:
    transaction.on_commit(lambda: _enqueue(enrollment_id))


@receiver(curriculum_course_loaded, dispatch_uid="certificates.settings_from_curriculum")
def settings_from_curriculum(sender, *, course, data, path, report, **kwargs) -> None:
    from .services import certificate_settings_load

    certificate_settings_load(course=course, data=data, path=path, report=report)


@receiver(demo_seeded, dispatch_uid="certificates.demo_seal")
def demo_seal_on_seed(sender, **kwargs) -> str | None:
    """``seeddemo`` (``make run``): create the local demo seal once when no seal key is configured,
    so the first certificate is sealed without waiting for it."""
    from .conf import certificates_setting, key_directory
    from .sealing import demo_seal_ensure

    if certificates_setting("SIGNING_P12"):
        return None
    path = demo_seal_ensure(directory=key_directory())
    return f"  demo seal    {path} (a local self-signed seal, not for production)"


@receiver(participant_corrected, dispatch_uid="certificates.reissue_on_correction")
def reissue_on_correction(sender, *, enrollment_id: int, by_id=None, changes=None, **kwargs) -> None:
    """A participant's name, position or unit was corrected: re-issue the certificate (a task)."""
    from .tasks import certificate_correct_task

    # JSON-serialisable for the broker: the names of the corrected fields and their new values.
    payload = {str(k): str(v) for k, v in changes.items()} if isinstance(changes, dict) else list(changes or [])

    def enqueue() -> None:
        try:
            certificate_correct_task.delay(enrollment_id, by_id, payload)
        except Exception:  # noqa: BLE001 - a broker outage must not fail the operator's correction
            logger.exception("could not enqueue the re-issue of enrolment %s's certificate", enrollment_id)

    transaction.on_commit(enqueue)
