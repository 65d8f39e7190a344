"""Shared fill for the benchmarks: a cohort's participants, enrolled and spread over every stage of progress."""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from courses.models import Cohort, Enrollment, LessonCompletion, Module, ModuleProgress, ParticipantProfile
from tests.courses.enrollment_files import nip_for

BATCH = 5000


def participants_enroll(cohort: Cohort, *, size: int, offset: int, usable_every: int = 0) -> list[Enrollment]:
    """``size`` participants (NIPs from ``offset`` on) enrolled in ``cohort`` (bulk inserts); with
    ``usable_every`` N, every Nth has a password already, the others none yet."""
    unusable = make_password(None)
    usable = make_password("bench-password") if usable_every else unusable
    User = get_user_model()
    users = User.objects.bulk_create(
        [
            User(
                username=nip_for(offset + n),
                email=f"b{offset + n}@example.org",
                password=usable if usable_every and n % usable_every == 0 else unusable,
            )
            for n in range(size)
        ],
        batch_size=BATCH,
    )
    profiles = ParticipantProfile.objects.bulk_create(
        [
            ParticipantProfile(user=u, nip=u.username, full_name=f"Peserta {u.username[-6:]}", unit=f"OPD {n % 17}")
            for n, u in enumerate(users)
        ],
        batch_size=BATCH,
    )
    return Enrollment.objects.bulk_create(
        [Enrollment(cohort=cohort, participant=p) for p in profiles], batch_size=BATCH
    )


def progress_spread(
    enrollments: list[Enrollment],
    modules: list[Module],
    *,
    at_current: Callable[[int, Enrollment, Module], None] | None = None,
) -> None:
    """The nth enrolment has ``n % (len(modules) + 1)`` modules completed and one lesson of the next
    done (``at_current`` is called with n, the enrolment and that next module); those with every
    module completed are completed (bulk inserts). ``modules`` in order, their lessons prefetched."""
    now = timezone.now()
    completions, progress = [], []
    for n, enrollment in enumerate(enrollments):
        finished = n % (len(modules) + 1)
        for module in modules[:finished]:
            completions += [LessonCompletion(enrollment=enrollment, lesson=lesson) for lesson in module.lessons.all()]
            progress.append(
                ModuleProgress(
                    enrollment=enrollment, module=module, best_score=80, quiz_passed_at=now, completed_at=now
                )
            )
        if finished < len(modules):
            current = modules[finished]
            completions += [
                LessonCompletion(enrollment=enrollment, lesson=lesson) for lesson in current.lessons.all()[:1]
            ]
            progress.append(ModuleProgress(enrollment=enrollment, module=current, best_score=40))
            if at_current is not None:
                at_current(n, enrollment, current)
        if finished == len(modules):
            enrollment.completed_at = now
    LessonCompletion.objects.bulk_create(completions, batch_size=BATCH)
    ModuleProgress.objects.bulk_create(progress, batch_size=BATCH)
    Enrollment.objects.bulk_update(enrollments, ["completed_at"], batch_size=BATCH)


def statistics_refresh() -> None:
    """ANALYZE, as autovacuum does on a live database after large writes: without statistics on the
    tables just filled, the planner guesses and scans whole tables where an index would do (each
    chunk of a report would then cost as much as the whole table)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
