"""Creating cohorts."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..errors import CohortInvalid
from ..models import Cohort, Course
from ..validators import visible_text_validate


def cohort_create(
    *,
    course: Course,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
) -> Cohort:
    """Create a cohort. Raises CohortInvalid when the dates are in the wrong order or the name is taken.

    The name is printed on certificates, so characters that reorder or pad it unseen are refused;
    the contact (shown to participants who need help) likewise."""
    name = name.strip()
    contact = {
        "contact_name": contact_name.strip(),
        "contact_email": contact_email.strip(),
        "contact_phone": contact_phone.strip(),
    }
    for field, value in [
        ("name", name),
        ("contact_name", contact["contact_name"]),
        ("contact_phone", contact["contact_phone"]),
    ]:
        try:
            visible_text_validate(value)
        except ValidationError as exc:
            raise CohortInvalid(" ".join(exc.messages), field=field) from exc
    if starts_on > ends_on:
        raise CohortInvalid(_("The start date must be on or before the end date."), field="ends_on")
    try:
        with transaction.atomic():
            return Cohort.objects.create(course=course, name=name, starts_on=starts_on, ends_on=ends_on, **contact)
    except IntegrityError as exc:
        raise CohortInvalid(_("This course already has a cohort with that name."), field="name") from exc
