"""Cohorts, their participants and units."""

from django.db.models import Count, Q, QuerySet

from ..models import Cohort, Enrollment, ParticipantProfile


def cohort_list() -> QuerySet[Cohort]:
    """Cohorts with their course and number of participants (one query)."""
    return Cohort.objects.select_related("course").annotate(
        participants_count=Count("enrollments", filter=Q(enrollments__removed_at__isnull=True))
    )


def cohort_participants(*, cohort: Cohort, search: str = "", unit: str = "") -> QuerySet[Enrollment]:
    """The cohort's enrolments with participant and user, filtered by name/NIP and unit."""
    enrollments = Enrollment.objects.filter(cohort=cohort, removed_at__isnull=True).select_related("participant__user")
    search = search.strip()
    if search:
        digits = search.replace(" ", "")
        enrollments = enrollments.filter(
            Q(participant__full_name__icontains=search) | Q(participant__nip__contains=digits)
        )
    if unit:
        enrollments = enrollments.filter(participant__unit=unit)
    return enrollments.order_by("participant__full_name", "pk")


def cohort_units(*, cohort: Cohort) -> list[str]:
    """Distinct units (OPD) of the cohort's participants, for filtering."""
    return list(
        ParticipantProfile.objects.filter(enrollments__cohort=cohort, enrollments__removed_at__isnull=True)
        .exclude(unit="")
        .values_list("unit", flat=True)
        .distinct()
        .order_by("unit")
    )


def cohort_enrollments(*, cohort: Cohort) -> QuerySet[Enrollment]:
    """The cohort's enrolments ordered by participant name (those removed by an operator left out)."""
    return Enrollment.objects.filter(cohort=cohort, removed_at__isnull=True).order_by("participant__full_name", "pk")
