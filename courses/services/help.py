"""Participants who cannot go on alone (all quiz attempts used without a pass): the flag and the operator's email."""

import logging

from django.db import transaction
from django.utils import timezone

from ..emails import help_needed_message
from ..models import ModuleProgress

logger = logging.getLogger("courses.services")


@transaction.atomic
def module_help_request(*, enrollment_id: int, module_id: int) -> bool:
    """Record that the participant needs the operator to go on with ``module_id``; True if newly recorded.

    Side effects: sets ``ModuleProgress.help_needed_at`` and, after commit, enqueues the operator's
    email (``module_help_notify_task``). Idempotent: while the flag is set, calling again changes
    nothing and enqueues nothing, so the operator is told once per time the participant gets stuck.
    """
    from ..tasks import module_help_notify_task

    progress, _ = ModuleProgress.objects.get_or_create(enrollment_id=enrollment_id, module_id=module_id)
    flagged = ModuleProgress.objects.filter(pk=progress.pk, help_needed_at__isnull=True).update(
        help_needed_at=timezone.now(), help_notified_at=None
    )
    if flagged:
        progress_id = progress.pk
        transaction.on_commit(lambda: module_help_notify_task.delay(progress_id), robust=True)
    return bool(flagged)


def module_help_clear(*, enrollment_id: int, module_id: int) -> bool:
    """Lift the flag (the operator gave another chance); True if it was set. Idempotent."""
    return bool(
        ModuleProgress.objects.filter(
            enrollment_id=enrollment_id, module_id=module_id, help_needed_at__isnull=False
        ).update(help_needed_at=None, help_notified_at=None)
    )


def module_help_notify(*, progress_id: int) -> bool:
    """Email the cohort's contact (or, without one, the operators) that a participant needs help; True if sent.

    Side effects: sends one bilingual email and records ``help_notified_at``. Idempotent: a flag
    already notified, or lifted meanwhile, sends nothing; the row lock keeps two deliveries of the
    task from both sending. A failed send raises (the task retries) and records nothing.
    """
    with transaction.atomic():
        progress = (
            ModuleProgress.objects.select_for_update(of=("self",))
            .select_related("enrollment__cohort__course", "enrollment__participant__user", "module")
            .filter(pk=progress_id, help_needed_at__isnull=False, help_notified_at__isnull=True)
            .first()
        )
        if progress is None:
            return False
        message = help_needed_message(progress=progress)
        if message is None:
            logger.warning("No contact or operator email to tell about module progress %s", progress_id)
            return False
        message.send()
        ModuleProgress.objects.filter(pk=progress.pk).update(help_notified_at=timezone.now())
    return True
