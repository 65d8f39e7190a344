"""Server-rendered pages of the courses app: ``participant`` and ``operator`` pages, re-exported for urls.py."""

from .operator import operator_action_plans, operator_cohort, operator_cohorts, operator_import, operator_progress
from .participant import (
    action_plan_page,
    completion,
    course_detail,
    dashboard,
    enrollment_detail,
    home,
    lesson_page,
    module_help,
)
from .participants import (
    operator_cohort_audit,
    operator_invitations_resend,
    operator_participant,
    operator_participant_remove,
    operator_participants,
    operator_reminders_send,
    operator_reminders_switch,
)

__all__ = [
    "action_plan_page",
    "completion",
    "module_help",
    "operator_action_plans",
    "course_detail",
    "dashboard",
    "enrollment_detail",
    "home",
    "lesson_page",
    "operator_cohort",
    "operator_cohorts",
    "operator_import",
    "operator_progress",
    "operator_cohort_audit",
    "operator_invitations_resend",
    "operator_participant",
    "operator_participant_remove",
    "operator_participants",
    "operator_reminders_send",
    "operator_reminders_switch",
]
