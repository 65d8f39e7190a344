"""Operators' work on a cohort's participants: the audit log, corrections, removals, invitations
resent and reminders (each at most once a person a day, whoever asks)."""

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..emails import invitation_message, reminder_message
from ..errors import ParticipantInvalid
from ..models import (
    AuditAction,
    AuditEntry,
    Cohort,
    Enrollment,
    MessageKind,
    ParticipantMessage,
    ParticipantProfile,
)
from ..signals import participant_corrected
from ..validators import visible_text_validate

logger = logging.getLogger(__name__)

# Messages a send task handles at a time (one task per batch, never one per person).
MESSAGE_BATCH = 500


def _actor_name(actor) -> str:
    if actor is None:
        return ""
    return (actor.get_full_name() or actor.get_username())[:150]


def audit_record(
    *,
    actor,
    action: str,
    enrollment: Enrollment | None = None,
    cohort: Cohort | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Record an operator's action (``AuditAction``) on a participant's record or a cohort; the entry
    is never changed afterwards. ``cohort`` defaults to the enrolment's. ``actor`` None: the system
    (e.g. the scheduled reminder)."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=_actor_name(actor),
        action=action,
        enrollment=enrollment,
        cohort_id=cohort.pk if cohort is not None else (enrollment.cohort_id if enrollment is not None else None),
        details=details or {},
    )


def _audit_many(*, actor, action: str, cohort: Cohort, enrollment_ids: Iterable[int], details: dict) -> None:
    name = _actor_name(actor)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=actor, actor_name=name, action=action, enrollment_id=pk, cohort_id=cohort.pk, details=details
            )
            for pk in enrollment_ids
        ],
        batch_size=1000,
    )


CORRECTABLE = {"full_name": 150, "position": 200, "unit": 200}


@transaction.atomic
def participant_correct(
    *, enrollment: Enrollment, by, full_name: str | None = None, position: str | None = None, unit: str | None = None
) -> dict[str, list[str]]:
    """Correct the participant's name, position or unit (None: left as it is); returns the changes as
    {field: [old, new]} (empty: nothing changed, nothing recorded). Records the correction and, after
    commit, sends ``participant_corrected`` (certificates re-issues a valid certificate). Raises
    ParticipantInvalid (at its field) for an empty name, a text too long or with hidden characters."""
    profile = ParticipantProfile.objects.select_for_update().get(pk=enrollment.participant_id)
    wanted = {"full_name": full_name, "position": position, "unit": unit}
    changes: dict[str, list[str]] = {}
    for field, value in wanted.items():
        if value is None:
            continue
        value = " ".join(str(value).split())
        if field == "full_name" and not value:
            raise ParticipantInvalid(_("The name cannot be empty."), field=field)
        if len(value) > CORRECTABLE[field]:
            raise ParticipantInvalid(
                _("At most %(n)d characters.") % {"n": CORRECTABLE[field]},
                field=field,
            )
        try:
            visible_text_validate(value)
        except ValidationError as exc:
            raise ParticipantInvalid(" ".join(exc.messages), field=field) from exc
        old = getattr(profile, field)
        if value != old:
            changes[field] = [old, value]
            setattr(profile, field, value)
    if not changes:
        return {}
    profile.save(update_fields=[*changes, "updated_at"])
    audit_record(actor=by, action=AuditAction.CORRECTION, enrollment=enrollment, details={"changes": changes})
    enrollment_id, by_id = enrollment.pk, getattr(by, "pk", None)
    transaction.on_commit(lambda: _corrected_send(enrollment_id=enrollment_id, by_id=by_id, changes=changes))
    return changes


def _corrected_send(*, enrollment_id: int, by_id: int | None, changes: dict) -> None:
    for receiver, result in participant_corrected.send_robust(
        sender=Enrollment, enrollment_id=enrollment_id, by_id=by_id, changes=changes
    ):
        if isinstance(result, Exception):
            logger.error(
                "participant_corrected receiver %r failed for enrolment %s",
                receiver,
                enrollment_id,
                exc_info=(type(result), result, result.__traceback__),
            )


@transaction.atomic
def enrollment_remove(*, enrollment: Enrollment, by, reason: str = "") -> bool:
    """Remove the participant from the cohort, softly: the enrolment and everything it holds stay for
    the record, but it leaves the cohort's lists, progress and reminders and the participant's own
    pages. Returns False (and records nothing) when it was removed already."""
    if not Enrollment.objects.filter(pk=enrollment.pk, removed_at__isnull=True).update(removed_at=timezone.now()):
        return False
    audit_record(
        actor=by, action=AuditAction.REMOVAL, enrollment=enrollment, details={"reason": " ".join(reason.split())[:500]}
    )
    return True


def _messages_request(*, cohort: Cohort, by, kind: str, enrollment_ids: list[int], action: str) -> int:
    """Claim today's message of ``kind`` for each of ``enrollment_ids`` that has none yet (the unique
    row makes it once a day whoever asks, even two operators at the same moment), record it, and
    enqueue the sending after commit in batches. Returns how many were claimed."""
    from ..tasks import participant_messages_send_task

    today = timezone.localdate()
    claimed: list[int] = []
    with transaction.atomic():
        for start in range(0, len(enrollment_ids), 1000):
            chunk = enrollment_ids[start : start + 1000]
            taken = set(
                ParticipantMessage.objects.filter(enrollment_id__in=chunk, kind=kind, day=today).values_list(
                    "enrollment_id", flat=True
                )
            )
            fresh = [pk for pk in chunk if pk not in taken]
            ParticipantMessage.objects.bulk_create(
                [ParticipantMessage(enrollment_id=pk, kind=kind, day=today, requested_by=by) for pk in fresh],
                batch_size=1000,
                ignore_conflicts=True,
            )
            claimed.extend(fresh)
        if not claimed:
            return 0
        # Whoever inserted a row, only its unsent messages are sent, each once (the task claims it).
        message_ids = list(
            ParticipantMessage.objects.filter(
                enrollment_id__in=claimed, kind=kind, day=today, sent_at__isnull=True
            ).values_list("pk", flat=True)
        )
        _audit_many(actor=by, action=action, cohort=cohort, enrollment_ids=claimed, details={"day": str(today)})
        for start in range(0, len(message_ids), MESSAGE_BATCH):
            batch = message_ids[start : start + MESSAGE_BATCH]
            transaction.on_commit(lambda batch=batch: participant_messages_send_task.delay(batch), robust=True)
    return len(claimed)


def invitations_resend(*, cohort: Cohort, by, enrollment_ids: list[int] | None = None) -> int:
    """Send the invitation again to the cohort's participants who have not set a password (of
    ``enrollment_ids`` if given; accepted ones are skipped); at most once a person a day. Returns
    how many were queued."""
    from ..selectors import enrollments_not_accepted

    ids = enrollments_not_accepted(cohort=cohort, ids=enrollment_ids or None)
    return _messages_request(cohort=cohort, by=by, kind=MessageKind.INVITATION, enrollment_ids=ids, action="resend")


def reminders_send(*, cohort: Cohort, by=None) -> int:
    """Remind the cohort's participants behind pace (or not started) by email; at most once a person
    a day, whoever asks. ``by`` None: the schedule. Returns how many were queued."""
    from ..selectors import enrollments_behind

    ids = enrollments_behind(cohort=cohort)
    return _messages_request(cohort=cohort, by=by, kind=MessageKind.REMINDER, enrollment_ids=ids, action="reminder")


def participant_messages_send(*, message_ids: list[int]) -> int:
    """Send the claimed invitations and reminders not sent yet; returns how many went out. Each is
    marked sent before its email goes and released if sending fails, so a retried task never emails
    anyone twice. A participant removed since, or who has set a password since (an invitation), is skipped."""
    from ..selectors import enrollments_progress

    messages = list(
        ParticipantMessage.objects.filter(pk__in=message_ids, sent_at__isnull=True, enrollment__removed_at__isnull=True)
        .select_related("enrollment__participant__user", "enrollment__cohort__course")
        .order_by("pk")
    )
    reminders = [m.enrollment_id for m in messages if m.kind == MessageKind.REMINDER]
    progress: dict[int, Any] = {}
    if reminders:
        progress = {
            item.enrollment.pk: item.progress_percent
            for item in enrollments_progress(Enrollment.objects.filter(pk__in=reminders), extras=[])
        }
    sent = 0
    with get_connection() as connection:
        for message in messages:
            enrollment = message.enrollment
            profile = enrollment.participant
            if message.kind == MessageKind.INVITATION and profile.user.has_usable_password():
                continue
            now = timezone.now()
            if not ParticipantMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(sent_at=now):
                continue
            try:
                if message.kind == MessageKind.INVITATION:
                    invitation_message(profile=profile, connection=connection).send()
                else:
                    reminder_message(
                        enrollment=enrollment, progress_percent=progress.get(enrollment.pk, 0), connection=connection
                    ).send()
            except Exception:
                ParticipantMessage.objects.filter(pk=message.pk).update(sent_at=None)
                raise
            if message.kind == MessageKind.INVITATION and profile.invited_at is None:
                ParticipantProfile.objects.filter(pk=profile.pk, invited_at__isnull=True).update(invited_at=now)
            sent += 1
    return sent


def scheduled_reminders_send(*, every_days: int, now=None) -> int:
    """The schedule's reminders: for each running cohort whose reminders are on and were last sent
    ``every_days`` or more ago (or never), remind the participants behind. Returns how many were queued."""
    import datetime

    now = now or timezone.now()
    today = timezone.localdate(now)
    due = Cohort.objects.filter(starts_on__lte=today, ends_on__gte=today, reminders_enabled=True).exclude(
        reminded_at__gt=now - datetime.timedelta(days=every_days) + datetime.timedelta(minutes=30)
    )
    queued = 0
    for cohort in due.order_by("pk"):
        # Claim the cohort's run first: two beat runs never both remind it.
        if not Cohort.objects.filter(pk=cohort.pk, reminded_at=cohort.reminded_at).update(reminded_at=now):
            continue
        queued += reminders_send(cohort=cohort, by=None)
    return queued


@transaction.atomic
def cohort_reminders_switch(*, cohort: Cohort, enabled: bool, by) -> None:
    """Turn the cohort's scheduled reminders on or off."""
    if cohort.reminders_enabled == enabled:
        return
    Cohort.objects.filter(pk=cohort.pk).update(reminders_enabled=enabled)
    cohort.reminders_enabled = enabled
    audit_record(actor=by, action=AuditAction.SCHEDULE, cohort=cohort, details={"enabled": enabled})
