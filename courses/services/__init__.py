"""Every write the courses app does, a module per concern; the public names are re-exported here."""

from .action_plans import ACTION_PLAN_TEXT_MAX, ACTION_PLAN_TEXT_MIN, action_plan_submit
from .cohorts import cohort_create
from .curriculum import curriculum_load
from .enrollment import EnrollmentImportResult, enrollment_import
from .help import module_help_clear, module_help_notify, module_help_request
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
    "ACTION_PLAN_TEXT_MAX",
    "ACTION_PLAN_TEXT_MIN",
    "action_plan_submit",
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
    "module_help_clear",
    "module_help_notify",
    "module_help_request",
    "quiz_result_record",
]
