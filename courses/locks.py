"""Row locks on enrollments, and the one order in which every app takes its locks.

Every transaction that locks more than one kind of row takes them in this order, so two of them
can wait for each other but never deadlock:

1. the course row (``curriculum_load``);
2. the attempt row (assessments' submit, save and expiry, before they report to courses);
3. the enrollment row (``enrollment_lock``: lesson completion, quiz result, certificate issuing;
   ``enrollments_lock`` for the curriculum load's batch, in id order);
4. the rows of that enrollment's progress (lesson completions, module progress) and the lessons a
   curriculum load deletes;
5. the certificate number counter (taken by its incrementing UPDATE), then the certificate row.

Only ``of=("self",)``: never the cohort, course or quiz rows that every participant shares.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from .models import Enrollment


def enrollment_lock(pk: int, *, select_related: Iterable[str] = ("cohort",)) -> Enrollment:
    """The enrollment ``pk``, its row locked until the transaction ends (order: step 3 above)."""
    return Enrollment.objects.select_for_update(of=("self",)).select_related(*select_related).get(pk=pk)


def enrollments_lock(enrollments: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """``enrollments`` with their rows locked in id order when evaluated (several at step 3)."""
    return enrollments.select_for_update(of=("self",)).order_by("pk")
