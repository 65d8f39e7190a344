"""What operators act on: a cohort's participants with their invitation, progress, activity and flags,
one participant's record, and the audit log."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import BooleanField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from ..models import AuditEntry, Cohort, Enrollment, LessonCompletion, MessageKind, ModuleState, ParticipantMessage
from .progress import EnrollmentProgressView, enrollments_progress

# The flags an operator acts on, in the order the page shows them.
FLAGS = ("not_started", "behind_pace", "out_of_attempts", "completed")
INVITATION_STATUSES = ("pending", "sent", "accepted")


def cohort_pace_percent(*, cohort: Cohort, today: datetime.date | None = None) -> int:
    """The share of the cohort's period already gone, in whole percent (0 before it starts, 100 after
    its last day): a participant whose progress is below it is behind pace."""
    today = today or timezone.localdate()
    days = (cohort.ends_on - cohort.starts_on).days + 1
    gone = (today - cohort.starts_on).days
    return max(0, min(100, gone * 100 // days))


def cohort_is_running(*, cohort: Cohort, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return cohort.starts_on <= today <= cohort.ends_on


@dataclass(frozen=True)
class ParticipantRow:
    """One participant of a cohort as an operator sees them."""

    progress: EnrollmentProgressView
    email: str
    invitation_status: str  # one of INVITATION_STATUSES
    invitation_sent_at: datetime.datetime | None
    invitation_accepted_at: datetime.datetime | None
    last_activity: datetime.datetime | None
    flags: frozenset[str]
    out_of_attempts_modules: tuple[Any, ...]  # the modules (Module) whose quiz has no attempt left

    @property
    def enrollment(self) -> Enrollment:
        return self.progress.enrollment

    @property
    def participant(self):
        return self.progress.enrollment.participant

    @property
    def progress_percent(self) -> int:
        return self.progress.progress_percent

    @property
    def completed_at(self):
        return self.progress.enrollment.completed_at

    @property
    def invitation(self) -> dict[str, Any]:
        return {
            "status": self.invitation_status,
            "sent_at": self.invitation_sent_at,
            "accepted_at": self.invitation_accepted_at,
        }


def active_enrollments(*, cohort: Cohort) -> QuerySet[Enrollment]:
    """The cohort's enrolments, those removed by an operator left out, by participant name."""
    return Enrollment.objects.filter(cohort=cohort, removed_at__isnull=True).order_by("participant__full_name", "pk")


def _annotated(enrollments: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """What the participants' table needs beyond progress, as annotations of the rows' own query."""
    last_lesson = (
        LessonCompletion.objects.filter(enrollment=OuterRef("pk")).order_by("-completed_at").values("completed_at")[:1]
    )
    last_resent = (
        ParticipantMessage.objects.filter(enrollment=OuterRef("pk"), kind=MessageKind.INVITATION, sent_at__isnull=False)
        .order_by("-sent_at")
        .values("sent_at")[:1]
    )
    return enrollments.annotate(
        user_email=F("participant__user__email"),
        user_last_login=F("participant__user__last_login"),
        password_set=ExpressionWrapper(
            ~Q(participant__user__password__startswith=UNUSABLE_PASSWORD_PREFIX), output_field=BooleanField()
        ),
        profile_invited_at=F("participant__invited_at"),
        profile_accepted_at=F("participant__accepted_at"),
        profile_position=F("participant__position"),
        last_lesson_at=Subquery(last_lesson),
        last_resent_at=Subquery(last_resent),
    )


def _latest(*values):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _row(item: EnrollmentProgressView, pace: int) -> ParticipantRow:
    enrollment = item.enrollment
    sent_at = _latest(enrollment.profile_invited_at, enrollment.last_resent_at)
    if enrollment.password_set:
        status = "accepted"
    elif sent_at is not None:
        status = "sent"
    else:
        status = "pending"
    out_of_attempts = tuple(
        m.module
        for m in item.modules
        if m.has_quiz and not m.quiz_passed and m.state != ModuleState.COMPLETED and m.extras.get("attempts_left") == 0
    )
    flags = set()
    if enrollment.completed_at:
        flags.add("completed")
    else:
        if item.progress_percent == 0:
            flags.add("not_started")
        if item.progress_percent < pace:
            flags.add("behind_pace")
        if out_of_attempts:
            flags.add("out_of_attempts")
    return ParticipantRow(
        progress=item,
        email=enrollment.user_email,
        invitation_status=status,
        invitation_sent_at=sent_at,
        invitation_accepted_at=enrollment.profile_accepted_at if status == "accepted" else None,
        last_activity=_latest(enrollment.last_lesson_at, enrollment.user_last_login),
        flags=frozenset(flags),
        out_of_attempts_modules=out_of_attempts,
    )


def participant_rows(
    enrollments: QuerySet[Enrollment], *, cohort: Cohort, today: datetime.date | None = None
) -> list[ParticipantRow]:
    """Rows of ``enrollments`` (of ``cohort``), in their order: four queries whatever their number
    (enrolments, module progress, lessons read, attempts left; the course outline comes from the
    content cache, ``enrollments_progress``)."""
    pace = cohort_pace_percent(cohort=cohort, today=today)
    progress = enrollments_progress(_annotated(enrollments), extras=[], module_values=["attempts_left"], cohort=cohort)
    return [_row(item, pace) for item in progress]


@dataclass(frozen=True)
class CohortParticipants:
    rows: list[ParticipantRow]  # those the filter keeps
    counts: dict[str, int]  # per flag, over the whole cohort
    total: int
    flag: str  # the filter ("" everyone)
    pace_percent: int
    not_accepted: int  # participants who have not set a password yet


def cohort_participants_overview(
    *, cohort: Cohort, flag: str = "", today: datetime.date | None = None
) -> CohortParticipants:
    """The cohort's participants (removed ones left out) with counts per flag over the whole cohort,
    and the rows carrying ``flag`` (unknown or empty: everyone). ``participant_rows``' queries."""
    flag = flag if flag in FLAGS else ""
    rows = participant_rows(active_enrollments(cohort=cohort), cohort=cohort, today=today)
    counts = {name: sum(1 for row in rows if name in row.flags) for name in FLAGS}
    return CohortParticipants(
        rows=[row for row in rows if not flag or flag in row.flags],
        counts=counts,
        total=len(rows),
        flag=flag,
        pace_percent=cohort_pace_percent(cohort=cohort, today=today),
        not_accepted=sum(1 for row in rows if row.invitation_status != "accepted"),
    )


def enrollments_behind(*, cohort: Cohort, today: datetime.date | None = None) -> list[int]:
    """Ids of the cohort's participants a reminder is for: not completed, and behind pace or not started."""
    return [
        row.enrollment.pk
        for row in participant_rows(active_enrollments(cohort=cohort), cohort=cohort, today=today)
        if {"behind_pace", "not_started"} & row.flags and "completed" not in row.flags
    ]


def enrollments_not_accepted(*, cohort: Cohort, ids: list[int] | None = None) -> list[int]:
    """Ids of the cohort's participants (of ``ids`` if given) who have not set a password (one query)."""
    enrollments = active_enrollments(cohort=cohort).filter(
        participant__user__password__startswith=UNUSABLE_PASSWORD_PREFIX
    )
    if ids:
        enrollments = enrollments.filter(pk__in=ids)
    return list(enrollments.order_by("pk").values_list("pk", flat=True))


def participant_detail_enrollment(*, pk: int) -> Enrollment | None:
    """An enrolment with its participant, user, cohort and course (one query)."""
    return Enrollment.objects.select_related("participant__user", "cohort__course").filter(pk=pk).first()


@dataclass(frozen=True)
class ParticipantRecord:
    row: ParticipantRow
    lessons_read: list[LessonCompletion]
    messages: list[ParticipantMessage]
    audit: list[AuditEntry]


def participant_record(*, enrollment: Enrollment) -> ParticipantRecord:
    """Everything an operator's participant page shows from courses (others' parts come through
    extension templates): the row, lessons read, invitations and reminders, the audit log."""
    (row,) = participant_rows(Enrollment.objects.filter(pk=enrollment.pk), cohort=enrollment.cohort)
    return ParticipantRecord(
        row=row,
        lessons_read=list(
            LessonCompletion.objects.filter(enrollment=enrollment)
            .select_related("lesson__module")
            .order_by("lesson__module__order", "lesson__order")
        ),
        messages=list(ParticipantMessage.objects.filter(enrollment=enrollment).select_related("requested_by")),
        audit=list(audit_entries(enrollment=enrollment)),
    )


def audit_entries(*, enrollment: Enrollment | None = None, cohort: Cohort | None = None) -> QuerySet[AuditEntry]:
    """The audit log of an enrolment or of a cohort (its participants' entries included), newest first."""
    entries = AuditEntry.objects.select_related("enrollment__participant")
    if enrollment is not None:
        entries = entries.filter(enrollment=enrollment)
    if cohort is not None:
        entries = entries.filter(cohort=cohort)
    return entries.order_by("-created_at", "-pk")


def cohort_messages_today(*, cohort: Cohort) -> dict[str, dict[str, int]]:
    """Per kind (invitation, reminder): today's messages to the cohort queued and sent, so the page
    can show how far a large send has got (one query)."""
    from django.db.models import Count

    result = {kind: {"total": 0, "sent": 0, "pending": 0} for kind in MessageKind.values}
    for kind, total, sent in (
        ParticipantMessage.objects.filter(enrollment__cohort=cohort, day=timezone.localdate())
        .order_by()
        .values("kind")
        .annotate(total=Count("pk"), sent=Count("pk", filter=Q(sent_at__isnull=False)))
        .values_list("kind", "total", "sent")
    ):
        result[kind] = {"total": total, "sent": sent, "pending": total - sent}
    return result
