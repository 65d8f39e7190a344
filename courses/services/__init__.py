"""Every write the courses app does, a module per concern; the public names are re-exported here."""

from .cohorts import cohort_create
from .curriculum import curriculum_load
from .enrollment import EnrollmentImportResult, enrollment_import
from .invitations import invitations_send
from .operator import (
    audit_record,
    cohort_reminders_switch,
    enrollment_remove,
    invitations_resend,
    participant_correct,
    participant_messages_send,
    reminders_send,
    scheduled_reminders_send,
)
from .progress import lesson_complete, quiz_result_record
from .uploads import (
    STAGED_UPLOADS_DIR,
    enrollment_upload_discard,
    enrollment_upload_stage,
    enrollment_upload_take,
    enrollment_uploads_purge,
)

__all__ = [
    "STAGED_UPLOADS_DIR",
    "EnrollmentImportResult",
    "cohort_create",
    "curriculum_load",
    "enrollment_import",
    "enrollment_upload_discard",
    "enrollment_upload_stage",
    "enrollment_upload_take",
    "enrollment_uploads_purge",
    "invitations_send",
    "audit_record",
    "cohort_reminders_switch",
    "enrollment_remove",
    "invitations_resend",
    "participant_correct",
    "participant_messages_send",
    "reminders_send",
    "scheduled_reminders_send",
    "lesson_complete",
    "quiz_result_record",
]
