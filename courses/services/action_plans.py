"""The action plan (rencana aksi): a participant writes, and may revise, the change they will lead."""

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..errors import ActionPlanClosed, ActionPlanInvalid, ActionPlanNotOffered
from ..locks import enrollment_lock
from ..models import ActionPlan, Enrollment
from .progress import _course_complete_if_done

ACTION_PLAN_TEXT_FIELDS = ("change", "lead", "indicator")
ACTION_PLAN_TEXT_MIN, ACTION_PLAN_TEXT_MAX = 10, 2000


def _cleaned(*, change: Any, lead: Any, due_on: Any, indicator: Any) -> dict[str, Any]:
    """The plan's values, trimmed; ActionPlanInvalid with every field's problem (nothing half-checked)."""
    errors: dict[str, list[Any]] = {}
    values: dict[str, Any] = {}
    for name, value in (("change", change), ("lead", lead), ("indicator", indicator)):
        text = value.strip() if isinstance(value, str) else ""
        if "\x00" in text:
            errors[name] = [_("Null characters are not allowed.")]
        elif not ACTION_PLAN_TEXT_MIN <= len(text) <= ACTION_PLAN_TEXT_MAX:
            errors[name] = [
                _("Write %(min)d to %(max)d characters (now %(count)d).")
                % {"min": ACTION_PLAN_TEXT_MIN, "max": ACTION_PLAN_TEXT_MAX, "count": len(text)}
            ]
        values[name] = text
    if not isinstance(due_on, datetime.date) or isinstance(due_on, datetime.datetime):
        errors["due_on"] = [_("Enter a date.")]
    values["due_on"] = due_on
    if errors:
        raise ActionPlanInvalid(errors)
    return values


@transaction.atomic
def action_plan_submit(*, enrollment: Enrollment, change: str, lead: str, due_on: datetime.date, indicator: str):
    """Write or revise the enrolment's action plan; returns the ActionPlan.

    Side effects: creates or updates the plan (``submitted_at`` is the first submission, ``updated_at``
    the last); when every module is already completed, completes the course (``course_completed``
    once, after commit, so the certificate is issued). Raises ActionPlanNotOffered (the course has no
    action plan), ActionPlanClosed (the course is already completed: the plan is final) and
    ActionPlanInvalid (each text 10–2,000 characters after trimming, ``due_on`` a date).
    """
    enrollment = enrollment_lock(enrollment.pk, select_related=("cohort__course",))
    course = enrollment.cohort.course
    if not (course.action_plan_required or course.action_plan_title):
        raise ActionPlanNotOffered()
    if enrollment.completed_at is not None:
        raise ActionPlanClosed()
    values = _cleaned(change=change, lead=lead, due_on=due_on, indicator=indicator)
    now = timezone.now()
    plan = ActionPlan.objects.filter(enrollment=enrollment).first()
    if plan is None:
        plan = ActionPlan.objects.create(enrollment=enrollment, submitted_at=now, **values)
    else:
        for name, value in values.items():
            setattr(plan, name, value)
        plan.save()
    _course_complete_if_done(enrollment=enrollment, now=now)
    return plan
