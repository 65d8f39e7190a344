"""Server-rendered pages of the courses app: ``participant`` and ``operator`` pages, re-exported for urls.py."""

from .operator import operator_cohort, operator_cohorts, operator_import, operator_progress
from .participant import completion, course_detail, dashboard, enrollment_detail, home, lesson_page, module_help

__all__ = [
    "completion",
    "module_help",
    "course_detail",
    "dashboard",
    "enrollment_detail",
    "home",
    "lesson_page",
    "operator_cohort",
    "operator_cohorts",
    "operator_import",
    "operator_progress",
]
