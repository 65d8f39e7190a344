"""Reads of the courses app, each a fixed number of queries, one module per concern; re-exported here.

``catalogue`` (courses, outlines, lessons, module access), ``progress`` (module states, the progress
of enrollments), ``cohorts``, ``accounts`` (operators, privileged accounts) and ``invitations``.
Other apps import from ``courses.selectors``.
"""

from .accounts import privileged_user_ids, user_is_operator
from .catalogue import (
    OUTLINE_EXTRAS,
    CourseOutline,
    LessonAccess,
    LessonAccessReason,
    LessonView,
    ModuleAccess,
    ModuleOutline,
    course_list_published,
    course_outline,
    enrollment_for_course,
    lesson_access,
    lesson_view,
    module_access,
)
from .cohorts import cohort_enrollments, cohort_list, cohort_participants, cohort_units
from .invitations import invitations_pending
from .progress import (
    PROGRESS_SORTS,
    PROGRESS_STATES,
    CohortProgressReport,
    EnrollmentProgressView,
    ModuleProgressView,
    ModuleSummary,
    cohort_progress_report,
    cohort_progress_selection,
    enrollments_progress,
    enrollments_progress_chunks,
    module_states,
    participant_enrollments,
    progress_state,
)

__all__ = [
    "PROGRESS_SORTS",
    "PROGRESS_STATES",
    "CohortProgressReport",
    "ModuleSummary",
    "cohort_progress_report",
    "cohort_progress_selection",
    "progress_state",
    "OUTLINE_EXTRAS",
    "CourseOutline",
    "EnrollmentProgressView",
    "LessonAccess",
    "LessonAccessReason",
    "LessonView",
    "ModuleAccess",
    "ModuleOutline",
    "ModuleProgressView",
    "cohort_enrollments",
    "cohort_list",
    "cohort_participants",
    "cohort_units",
    "course_list_published",
    "course_outline",
    "enrollment_for_course",
    "enrollments_progress",
    "enrollments_progress_chunks",
    "invitations_pending",
    "lesson_access",
    "lesson_view",
    "module_access",
    "module_states",
    "participant_enrollments",
    "privileged_user_ids",
    "user_is_operator",
]
