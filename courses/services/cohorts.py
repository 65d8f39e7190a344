"""Creating cohorts."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..errors import CohortInvalid
from ..models import Cohort, Course
from ..validators import visible_text_validate


def cohort_create(*, course: Course, name: str, starts_on: datetime.date, ends_on: datetime.date) -> Cohort:
    """Create a cohort. Raises CohortInvalid when the dates are in the wrong order or the name is taken.

    The name is printed on certificates, so characters that reorder or pad it unseen are refused."""
    name = name.strip()
    try:
        visible_text_validate(name)
    except ValidationError as exc:
        raise CohortInvalid(" ".join(exc.messages), field="name") from exc
    if starts_on > ends_on:
        raise CohortInvalid(_("The start date must be on or before the end date."), field="ends_on")
    try:
        with transaction.atomic():
            return Cohort.objects.create(course=course, name=name, starts_on=starts_on, ends_on=ends_on)
    except IntegrityError as exc:
        raise CohortInvalid(_("This course already has a cohort with that name."), field="name") from exc
