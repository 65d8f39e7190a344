"""Action plans (rencana aksi): a participant's own, and a cohort's for its operators."""

from django.db.models import QuerySet

from ..models import ActionPlan, Cohort, Enrollment

# The columns of a cohort's action plans (contract order): the JSON keys and the export header.
ACTION_PLAN_COLUMNS = ("nip", "full_name", "unit", "change", "lead", "due_on", "indicator", "submitted_at")


def enrollment_action_plan(*, enrollment: Enrollment) -> ActionPlan | None:
    """The enrolment's action plan, or None before it is submitted (one query)."""
    return ActionPlan.objects.filter(enrollment=enrollment).first()


def cohort_action_plans(*, cohort: Cohort) -> QuerySet[ActionPlan]:
    """The submitted action plans of the cohort's participants, by participant name (one query)."""
    return (
        ActionPlan.objects.filter(enrollment__cohort=cohort)
        .select_related("enrollment__participant")
        .order_by("enrollment__participant__full_name", "enrollment_id")
    )


def action_plan_row(plan: ActionPlan) -> dict:
    """One row of a cohort's action plans (contract shape), for the API, the page and the exports."""
    participant = plan.enrollment.participant
    return {
        "nip": participant.nip,
        "full_name": participant.full_name,
        "unit": participant.unit,
        "change": plan.change,
        "lead": plan.lead,
        "due_on": plan.due_on,
        "indicator": plan.indicator,
        "submitted_at": plan.submitted_at,
    }
