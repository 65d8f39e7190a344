"""Every write the courses app does: curriculum, cohorts and enrolment, invitations, progress."""

import datetime
import logging
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import get_connection
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .conf import courses_setting
from .curriculum import CurriculumError, CurriculumReport, read_markdown, read_yaml, require
from .emails import invitation_message
from .enrollment_file import EnrollmentFileInvalid, EnrollmentRow, FileError, read_enrollment_file
from .errors import CohortInvalid, EnrollmentConflict, ModuleLocked
from .extensions import module_extras
from .models import (
    Cohort,
    Course,
    Enrollment,
    Lesson,
    LessonCompletion,
    Module,
    ModuleProgress,
    ModuleState,
    ParticipantProfile,
    Stage,
)
from .selectors import module_states, privileged_user_ids
from .signals import course_completed, curriculum_module_loaded
from .validators import visible_text_validate

logger = logging.getLogger(__name__)


def sync_fields(instance: models.Model, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``instance`` and save only if something differs; True when saved."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed:
        update_fields = changed + [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]
        instance.save(update_fields=update_fields)
    return bool(changed)


def sync_children(
    *,
    kind: str,
    existing: dict[str, models.Model],
    wanted: list[dict[str, Any]],
    create: Any,
    report: CurriculumReport,
) -> dict[str, models.Model]:
    """Create, update or leave each wanted row (matched by ``key``); return them by key."""
    result: dict[str, models.Model] = {}
    for values in wanted:
        key = values["key"]
        instance = existing.get(key)
        if instance is None:
            result[key] = create(**values)
            report.record(kind, "created")
        else:
            report.record(kind, "updated" if sync_fields(instance, values) else "unchanged")
            result[key] = instance
    return result


def sync_delete_missing(
    *,
    kind: str,
    existing: dict[str, models.Model],
    kept: dict[str, models.Model],
    report: CurriculumReport,
    before: Any = None,
) -> list[int]:
    """Delete the rows of ``existing`` the files no longer name (not in ``kept``); return their ids.

    ``before()`` runs first when something is to be deleted (e.g. to take locks in a safe order)."""
    removed = [row.pk for key, row in existing.items() if key not in kept]
    if removed:
        if before is not None:
            before()
        type(next(iter(existing.values()))).objects.filter(pk__in=removed).delete()
        report.record(kind, "deleted", len(removed))
    return removed


def _unique_keys(items: list[dict[str, Any]], where: Path, kind: str) -> None:
    keys = [item["key"] for item in items]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise CurriculumError(f"{where}: duplicate {kind} key(s): {', '.join(duplicates)}")


def _read_module(module_dir: Path, order: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    path = module_dir / "module.yaml"
    data = read_yaml(path)
    stage = require(data, "stage", path)
    if stage not in Stage.values:
        raise CurriculumError(f"{path}: stage must be one of {', '.join(Stage.values)}")
    module = {
        "key": require(data, "key", path),
        "order": order,
        "stage": stage,
        "title": require(data, "title", path),
        "summary": str(data.get("summary") or "").strip(),
    }
    lessons = []
    for lesson_order, filename in enumerate(require(data, "lessons", path, list), start=1):
        lesson_path = module_dir / str(filename)
        meta, body = read_markdown(lesson_path)
        lessons.append(
            {
                "key": require(meta, "key", lesson_path),
                "order": lesson_order,
                "title": require(meta, "title", lesson_path),
                "body": body,
            }
        )
    _unique_keys(lessons, path, "lesson")
    return module, lessons


@transaction.atomic
def curriculum_load(*, slug: str = "gcio", source_dir: Path | None = None) -> CurriculumReport:
    """Load or update one course from its curriculum folder.

    Side effects: creates or updates the course, its modules, lessons and (through
    ``curriculum_module_loaded`` receivers) their quizzes, matching rows by stable keys so
    ids, and therefore participants' progress, survive. Lessons no longer in the files are
    deleted, and whoever had done all the other lessons (and passed the quiz) of such a module
    then completes it, possibly completing the course (``course_completed``, once, after
    commit); completions are never taken back. Modules no longer in the files are kept and
    reported. Idempotent: a second load of unchanged files writes nothing. All or nothing: a malformed file raises
    ``CurriculumError`` and rolls everything back.
    """
    source_dir = Path(source_dir or Path(courses_setting("CURRICULUM_DIR")) / slug)
    path = source_dir / "course.yaml"
    data = read_yaml(path)
    report = CurriculumReport()
    if require(data, "slug", path) != slug:
        raise CurriculumError(f"{path}: slug is '{data['slug']}', expected '{slug}'")

    course_values = {
        "title": require(data, "title", path),
        "description": str(data.get("description") or "").strip(),
        "published": bool(data.get("published", False)),
        "certificate_prefix": require(data, "certificate_prefix", path),
    }
    course = Course.objects.select_for_update().filter(slug=slug).first()
    if course is None:
        course = Course.objects.create(slug=slug, **course_values)
        report.record("course", "created")
    else:
        report.record("course", "updated" if sync_fields(course, course_values) else "unchanged")

    module_dirs = [source_dir / str(name) for name in require(data, "modules", path, list)]
    parsed = [_read_module(module_dir, order) for order, module_dir in enumerate(module_dirs, start=1)]
    _unique_keys([module for module, _ in parsed], path, "module")

    existing_modules = {m.key: m for m in course.modules.all()}
    modules = sync_children(
        kind="module",
        existing=existing_modules,
        wanted=[module for module, _ in parsed],
        create=lambda **values: Module.objects.create(course=course, **values),
        report=report,
    )
    for stale in sorted(set(existing_modules) - set(modules)):
        report.warnings.append(f"module '{stale}' is no longer in the files; it was kept")

    # Enrolments that may have become complete because lessons they had not done were removed.
    waiting: list[tuple[Module, list[int]]] = []
    for (module_values, lessons), module_dir in zip(parsed, module_dirs, strict=True):
        module = modules[module_values["key"]]
        existing_lessons = {lesson.key: lesson for lesson in module.lessons.all()}
        kept = sync_children(
            kind="lesson",
            existing=existing_lessons,
            wanted=lessons,
            create=lambda module=module, **values: Lesson.objects.create(module=module, **values),
            report=report,
        )
        # Lock before deleting, in the order lesson_complete takes its locks (enrolment, then
        # the lesson row), so a participant completing a lesson right now cannot deadlock us.
        sync_delete_missing(
            kind="lesson",
            existing=existing_lessons,
            kept=kept,
            report=report,
            before=lambda module=module: waiting.append((module, _enrollments_lock_unfinished(module=module))),
        )
        curriculum_module_loaded.send(sender=Module, module=module, source_dir=module_dir, report=report)
    # After the receivers ran, so a quiz the files added to such a module is required as well.
    for module, enrollment_ids in waiting:
        report.record("module progress", "completed", _modules_complete_if_done(module=module, ids=enrollment_ids))
    return report


def _enrollments_lock_unfinished(*, module: Module) -> list[int]:
    """Lock and return the enrolments with started, unfinished progress in ``module`` (in id order)."""
    return list(
        Enrollment.objects.select_for_update(of=("self",))
        .filter(module_progress__module=module, module_progress__completed_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _modules_complete_if_done(*, module: Module, ids: list[int]) -> int:
    """Complete ``module`` for those of the enrolments ``ids`` that now meet the rule; return how many.

    Goes through ``_module_complete_if_done``, so the course completes (and ``course_completed`` is
    sent) exactly as after a lesson or a quiz pass, at most once. A fixed number of queries picks
    the candidates; only those that do complete cost more.
    """
    if not ids:
        return 0
    has_quiz = _module_has_quiz(module)
    lessons_total = module.lessons.count()
    # Completions of the removed lessons went with them (cascade): what is left counts.
    lessons_done = dict(
        LessonCompletion.objects.filter(enrollment_id__in=ids, lesson__module=module)
        .values("enrollment_id")
        .annotate(n=Count("id"))
        .values_list("enrollment_id", "n")
    )
    candidates = ModuleProgress.objects.filter(module=module, enrollment_id__in=ids, completed_at__isnull=True)
    if has_quiz:
        candidates = candidates.filter(quiz_passed_at__isnull=False)
    completed = 0
    for progress in candidates.select_related("enrollment__cohort").order_by("enrollment_id"):
        if lessons_done.get(progress.enrollment_id, 0) < lessons_total:
            continue
        completed += _module_complete_if_done(
            enrollment=progress.enrollment, module=module, has_quiz=has_quiz, progress=progress
        )
    return completed


def _module_complete_if_done(
    *, enrollment: Enrollment, module: Module, has_quiz: bool, progress: ModuleProgress | None = None
) -> bool:
    """Record the module as completed once all its lessons are done and its quiz (if any) passed.

    True when this call recorded the completion."""
    if progress is None:
        progress, _ = ModuleProgress.objects.get_or_create(enrollment=enrollment, module=module)
    # Cheap checks first: most calls stop here (module already completed, or quiz not yet passed).
    if progress.completed_at or (has_quiz and progress.quiz_passed_at is None):
        return False
    lesson_ids = set(module.lessons.values_list("pk", flat=True))
    done = set(
        LessonCompletion.objects.filter(enrollment=enrollment, lesson__module=module).values_list(
            "lesson_id", flat=True
        )
    )
    if not lesson_ids <= done:
        return False
    now = timezone.now()
    # Conditional update: of two racing requests exactly one records the completion.
    if not ModuleProgress.objects.filter(pk=progress.pk, completed_at__isnull=True).update(completed_at=now):
        return False
    _course_complete_if_done(enrollment=enrollment, now=now)
    return True


def _course_complete_if_done(*, enrollment: Enrollment, now) -> None:
    course_modules = Module.objects.filter(course_id=enrollment.cohort.course_id).count()
    completed = ModuleProgress.objects.filter(enrollment=enrollment, completed_at__isnull=False).count()
    if completed < course_modules:
        return
    if Enrollment.objects.filter(pk=enrollment.pk, completed_at__isnull=True).update(completed_at=now):
        enrollment.completed_at = now
        enrollment_id = enrollment.pk
        transaction.on_commit(lambda: _course_completed_send(enrollment_id=enrollment_id))


def _course_completed_send(*, enrollment_id: int) -> None:
    """Tell the other apps; runs after commit, so a failing receiver must not fail the request.

    The completion is already recorded and every receiver deserves its turn; a receiver whose
    work got lost is caught up by its own app's sweep (e.g. certificates), so logging is enough.
    """
    for receiver, result in course_completed.send_robust(sender=Enrollment, enrollment_id=enrollment_id):
        if isinstance(result, Exception):
            logger.error(
                "course_completed receiver %r failed for enrolment %s",
                receiver,
                enrollment_id,
                exc_info=(type(result), result, result.__traceback__),
            )


def _ensure_unlocked(*, enrollment: Enrollment, module: Module) -> None:
    if module_states(enrollment=enrollment)[module.pk] == ModuleState.LOCKED:
        raise ModuleLocked()


@transaction.atomic
def lesson_complete(*, enrollment: Enrollment, lesson: Lesson) -> bool:
    """Mark ``lesson`` done for ``enrollment``; True if newly recorded.

    Side effects: writes a LessonCompletion, may complete the module and the course (which sends
    ``course_completed`` once, after commit). Idempotent and safe to race: the database allows one
    completion per lesson and the module/course completions are conditional updates.
    Raises ModuleLocked when the lesson's module is still locked.
    """
    # Serialise concurrent writes for this enrolment so the completion checks see each other
    # (of=self: never the cohort row, which every participant of the cohort shares).
    enrollment = Enrollment.objects.select_for_update(of=("self",)).select_related("cohort").get(pk=enrollment.pk)
    module = lesson.module
    _ensure_unlocked(enrollment=enrollment, module=module)
    _, created = LessonCompletion.objects.get_or_create(enrollment=enrollment, lesson=lesson)
    if created:  # a lesson already done cannot change the module's state
        _module_complete_if_done(enrollment=enrollment, module=module, has_quiz=_module_has_quiz(module))
    return created


def _module_has_quiz(module: Module) -> bool:
    # The quiz lives in another app; courses only knows it through the "quiz" extension point.
    return module_extras([module.pk], ["quiz"])["quiz"].get(module.pk) is not None


@transaction.atomic
def quiz_result_record(*, enrollment: Enrollment, module: Module, score_percent: int, passed: bool) -> None:
    """Record a graded quiz attempt for ``module``: keeps the best score, the first pass time.

    Side effects: updates ModuleProgress; a pass may complete the module and the course (which
    sends ``course_completed`` once, after commit). Idempotent: recording the same result again
    changes nothing.
    """
    enrollment = Enrollment.objects.select_for_update(of=("self",)).select_related("cohort").get(pk=enrollment.pk)
    progress, _ = ModuleProgress.objects.get_or_create(enrollment=enrollment, module=module)
    ModuleProgress.objects.filter(pk=progress.pk).filter(
        Q(best_score__isnull=True) | Q(best_score__lt=score_percent)
    ).update(best_score=score_percent)
    if passed:
        now = timezone.now()
        if ModuleProgress.objects.filter(pk=progress.pk, quiz_passed_at__isnull=True).update(quiz_passed_at=now):
            progress.quiz_passed_at = now
        _module_complete_if_done(enrollment=enrollment, module=module, has_quiz=True, progress=progress)


# --- Cohorts and enrolment -------------------------------------------------------------------


@dataclass(frozen=True)
class EnrollmentImportResult:
    created: int
    updated: int
    unchanged: int
    total: int
    enrolled: int
    dry_run: bool
    # Lines imported although the workbook does not show them (hidden rows, or a hidden sheet).
    hidden_rows: tuple[int, ...] = ()
    # What the operator should know although nothing is wrong enough to refuse the file.
    warnings: tuple[FileError, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The result as the API returns it; ``hidden_rows`` and ``warnings`` only when there are any."""
        values = asdict(self)
        del values["hidden_rows"], values["warnings"]
        if self.hidden_rows:
            values["hidden_rows"] = list(self.hidden_rows)
        if self.warnings:
            values["warnings"] = [warning.as_dict() for warning in self.warnings]
        return values


def _hidden_rows_warning(lines: list[int]) -> FileError:
    shown = ", ".join(str(line) for line in lines[:20]) + (", …" if len(lines) > 20 else "")
    return FileError(
        None,
        None,
        ngettext(
            "%(count)d row is hidden in the workbook (a hidden row or a hidden sheet), so it is easily missed "
            "when the file is checked; it is imported like the others. Line: %(lines)s.",
            "%(count)d rows are hidden in the workbook (hidden rows or a hidden sheet), so they are easily missed "
            "when the file is checked; they are imported like the others. Lines: %(lines)s.",
            len(lines),
        )
        % {"count": len(lines), "lines": shown},
    )


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


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Existing:
    """What the database already holds for the people of a file (see ``_existing_for_rows``)."""

    profiles: dict[str, ParticipantProfile]  # by NIP
    users_by_username: dict[str, Any]
    users_by_email: dict[str, list[Any]]  # by lower-cased email: every account, whichever case it uses
    privileged: set[int]  # ids of the staff, superuser and operator accounts among all of the above


def _existing_for_rows(rows: list[EnrollmentRow], batch: int) -> _Existing:
    """Profiles by NIP, users by NIP username and by lower-cased email, and which of those accounts are
    privileged (a fixed number of queries per batch)."""
    User = get_user_model()
    existing = _Existing(profiles={}, users_by_username={}, users_by_email={}, privileged=set())
    nips = [row.nip for row in rows]
    emails = [row.email for row in rows]
    user_ids: set[int] = set()
    for chunk in _chunks(nips, batch):
        for profile in ParticipantProfile.objects.filter(nip__in=chunk).select_related("user"):
            existing.profiles[profile.nip] = profile
            user_ids.add(profile.user_id)
        for user in User.objects.filter(username__in=chunk).select_related("participant_profile"):
            existing.users_by_username[user.username] = user
            user_ids.add(user.pk)
    for chunk in _chunks(emails, batch):
        for user in (
            User.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=chunk)
            .select_related("participant_profile")
            .order_by("pk")
        ):
            existing.users_by_email.setdefault(user.email_lower, []).append(user)
            user_ids.add(user.pk)
    for chunk in _chunks(sorted(user_ids), batch):
        existing.privileged |= privileged_user_ids(user_ids=chunk)
    return existing


def _row_changes(profile: ParticipantProfile, row: EnrollmentRow) -> bool:
    wanted = {"full_name": row.full_name, "unit": row.unit, "position": row.position}
    return any(getattr(profile, k) != v for k, v in wanted.items()) or profile.user.email.lower() != row.email


def _account_conflicts(rows: list[EnrollmentRow], existing: _Existing) -> list[FileError]:
    """The rows that would attach a profile to, or change, an account that is not purely a participant's.

    A file names people by NIP and email, and whoever writes it must not be able to take over an
    account through them (API.md "Security rules"). So a row is refused when:

    - its NIP is the username of an account without this NIP's profile: a staff, superuser or
      operator account (some offices use the NIP as staff username), but also a plain account
      with no profile at all, or another participant's. A plain account may be anyone's (made by
      hand, by another app, or left when a profile was deleted) and may hold a password: the file
      cannot prove it is the participant's, so an administrator has to sort it out. Column ``nip``;
    - its NIP is the profile of a staff, superuser or operator account and the row would change
      anything (name, unit, position or email); an unchanged row only enrols them. Column ``nip``;
    - its email belongs (in any letter case) to an account other than this person's. Column ``email``.

    Inactive accounts count as what they are: they can be reactivated.
    """
    errors = []
    for row in rows:
        profile = existing.profiles.get(row.nip)
        named_after = existing.users_by_username.get(row.nip)
        if profile is None and named_after is not None:
            other = getattr(named_after, "participant_profile", None)
            if other is not None and named_after.pk not in existing.privileged:
                message = _(
                    "This NIP is the username of the account of another participant (NIP …%(nip)s); "
                    "ask an administrator to correct that account."
                ) % {"nip": other.nip[-4:]}
            else:
                message = _(
                    "This NIP is already the username of an account that is not a participant's (for example "
                    "a staff or operator account). The import never takes over or changes such an account; "
                    "ask an administrator to check it."
                )
            errors.append(FileError(row.line, "nip", message))
        elif profile is not None and profile.user_id in existing.privileged and _row_changes(profile, row):
            errors.append(
                FileError(
                    row.line,
                    "nip",
                    _(
                        "This participant's account is also a staff, administrator or operator account, so the "
                        "import does not change it (name, unit, position or email). Change it in the "
                        "administration, or leave the row as the account stands."
                    ),
                )
            )
        person = profile.user_id if profile is not None else (named_after.pk if named_after else None)
        for owner in existing.users_by_email.get(row.email, []):
            if owner.pk == person:
                continue
            owner_profile = getattr(owner, "participant_profile", None)
            errors.append(
                FileError(
                    row.line,
                    "email",
                    _("This email already belongs to another person (%(who)s); every person needs their own email.")
                    % {"who": f"NIP …{owner_profile.nip[-4:]}" if owner_profile else _("a staff account")},
                )
            )
            break
    return errors


@transaction.atomic
def enrollment_import(
    *, cohort: Cohort, upload: IO[bytes], name: str = "", size: int | None = None, dry_run: bool = False
) -> EnrollmentImportResult:
    """Enrol the people of an enrolment file (CSV or XLSX) into ``cohort``.

    Side effects (not in a dry run): creates accounts (username = NIP, no usable password) and
    profiles for new people, updates changed name/email/unit/position of known people (matched by
    NIP), enrols everyone in the cohort, and after commit enqueues invitation emails for the new
    accounts. Never attaches a profile to, nor changes, an account that is not purely a
    participant's (staff, superuser, operator, or a plain account named after the NIP): such rows
    are errors, in a dry run too (``_account_conflicts`` has the rules). All or nothing: any invalid
    row raises EnrollmentFileInvalid listing every problem and writes nothing. Idempotent: importing
    the same file again reports everything unchanged.
    """
    rows = read_enrollment_file(upload, name=name, size=size)
    batch = courses_setting("IMPORT_BATCH_SIZE")
    # One import per cohort at a time; concurrent imports of the same people fail cleanly below.
    cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    existing = _existing_for_rows(rows, batch)
    errors = _account_conflicts(rows, existing)
    if errors:
        raise EnrollmentFileInvalid(errors)
    profiles = existing.profiles

    new_rows, changed, unchanged = [], [], 0
    for row in rows:
        profile = profiles.get(row.nip)
        if profile is None:
            new_rows.append(row)
            continue
        if not _row_changes(profile, row):
            unchanged += 1
        else:
            changed.append((profile, row))
    enrolled_ids = set()
    for chunk in _chunks([p.pk for p in profiles.values()], batch):
        enrolled_ids.update(
            Enrollment.objects.filter(cohort=cohort, participant_id__in=chunk).values_list("participant_id", flat=True)
        )
    to_enrol = len(new_rows) + sum(1 for p in profiles.values() if p.pk not in enrolled_ids)
    hidden = [row.line for row in rows if row.hidden]
    result = EnrollmentImportResult(
        created=len(new_rows),
        updated=len(changed),
        unchanged=unchanged,
        total=len(rows),
        enrolled=to_enrol,
        dry_run=dry_run,
        hidden_rows=tuple(hidden),
        warnings=(_hidden_rows_warning(hidden),) if hidden else (),
    )
    if dry_run:
        return result

    try:
        with transaction.atomic():
            new_profiles = _create_participants(new_rows, batch)
            _update_participants(changed, batch)
            participants = list(profiles.values()) + new_profiles
            Enrollment.objects.bulk_create(
                [Enrollment(cohort=cohort, participant=p) for p in participants if p.pk not in enrolled_ids],
                batch_size=batch,
                ignore_conflicts=True,
            )
    except IntegrityError as exc:
        raise EnrollmentConflict() from exc

    invite_ids = [p.user_id for p in new_profiles]
    if invite_ids:
        from .tasks import invitations_send_task

        for chunk in _chunks(invite_ids, 500):
            # robust: a broker outage must not turn a saved import into an error; the sweep sends later.
            transaction.on_commit(lambda chunk=chunk: invitations_send_task.delay(chunk), robust=True)
    return result


def _create_participants(rows: list[EnrollmentRow], batch: int) -> list[ParticipantProfile]:
    # Always new accounts: an existing account named after a NIP was refused by _account_conflicts,
    # and one created since then makes the insert fail (EnrollmentConflict) rather than be taken over.
    User = get_user_model()
    unusable = make_password(None)
    users = {}
    fresh = [User(username=row.nip, email=row.email, password=unusable) for row in rows]
    for user in User.objects.bulk_create(fresh, batch_size=batch):
        users[user.username] = user
    profiles = [
        ParticipantProfile(
            user=users[row.nip], nip=row.nip, full_name=row.full_name, unit=row.unit, position=row.position
        )
        for row in rows
    ]
    return ParticipantProfile.objects.bulk_create(profiles, batch_size=batch)


def _update_participants(changed: list[tuple[ParticipantProfile, EnrollmentRow]], batch: int) -> None:
    if not changed:
        return
    now = timezone.now()
    users = []
    for profile, row in changed:
        profile.full_name, profile.unit, profile.position, profile.updated_at = (
            row.full_name,
            row.unit,
            row.position,
            now,
        )
        if profile.user.email.lower() != row.email:
            profile.user.email = row.email
            users.append(profile.user)
    ParticipantProfile.objects.bulk_update(
        [p for p, _ in changed], ["full_name", "unit", "position", "updated_at"], batch_size=batch
    )
    if users:
        get_user_model().objects.bulk_update(users, ["email"], batch_size=batch)


# --- Staged enrolment files ----------------------------------------------------------------------

# Where the operator pages keep an enrolment file between its dry-run report and the confirmation.
# Names are "<unix time>-<random>", so the purge needs no storage metadata to find stale ones.
# The folder keeps its first spelling: the purge must still find files staged before a deploy.
STAGED_UPLOADS_DIR = "enrolment-uploads"


def enrollment_upload_stage(*, data: bytes) -> str:
    """Keep an enrolment file until the operator confirms the import; return its storage path.

    Side effects: writes one file to the default storage. It holds participants' personal data, so
    it is removed by ``enrollment_upload_take`` / ``enrollment_upload_discard`` and, if the operator
    never comes back, by ``enrollment_uploads_purge``. Not idempotent: every call writes a new file.
    """
    name = f"{STAGED_UPLOADS_DIR}/{int(timezone.now().timestamp())}-{uuid.uuid4().hex}"
    return default_storage.save(name, ContentFile(data))


def _is_staged(path: str) -> bool:
    # Paths come from the session; refuse anything outside the staging folder all the same.
    folder, _, name = path.partition("/")
    return folder == STAGED_UPLOADS_DIR and bool(name) and "/" not in name and ".." not in name


def enrollment_upload_take(*, path: str) -> bytes | None:
    """Read a staged enrolment file and delete it; None when it is gone (purged or already taken).

    Side effects: deletes the file, so the confirmation is one-use and the personal data does not
    outlive the import, whatever its outcome. Idempotent: a second call returns None.
    """
    if not _is_staged(path) or not default_storage.exists(path):
        return None
    try:
        with default_storage.open(path, "rb") as stored:
            return stored.read()
    finally:
        default_storage.delete(path)


def enrollment_upload_discard(*, path: str) -> bool:
    """Delete a staged enrolment file the operator cancelled; True if there was one. Idempotent."""
    if not _is_staged(path) or not default_storage.exists(path):
        return False
    default_storage.delete(path)
    return True


def _staged_at(name: str) -> datetime.datetime | None:
    stamp = name.split("-", 1)[0]
    if not stamp.isdigit():
        return None
    return datetime.datetime.fromtimestamp(int(stamp), tz=datetime.UTC)


def enrollment_uploads_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete staged enrolment files older than ``IMPORT_STAGED_MAX_AGE_SECONDS``; return how many.

    For operators who never confirmed or cancelled (closed the tab, walked away). Side effects:
    deletes files from the default storage. Idempotent. A file whose name carries no time (written
    before names did) falls back to the storage's modification time, or counts as stale.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=courses_setting("IMPORT_STAGED_MAX_AGE_SECONDS"))
    try:
        _, names = default_storage.listdir(STAGED_UPLOADS_DIR)
    except FileNotFoundError:  # nothing was ever staged
        return 0
    deleted = 0
    for name in names:
        path = f"{STAGED_UPLOADS_DIR}/{name}"
        staged_at = _staged_at(name)
        if staged_at is None:
            try:
                staged_at = default_storage.get_modified_time(path)
            except (NotImplementedError, OSError):
                staged_at = None
        if staged_at is None or staged_at < cutoff:
            default_storage.delete(path)
            deleted += 1
    return deleted


# --- Invitations ---------------------------------------------------------------------------------


def invitations_send(*, user_ids: list[int]) -> int:
    """Email each new participant a link to set their password; returns how many were sent.

    Idempotent: a participant is claimed (``invited_at`` set) before the email goes out and
    released again if sending fails, so a retried task never emails anyone twice.
    """
    sent = 0
    profiles = ParticipantProfile.objects.filter(user_id__in=user_ids, invited_at__isnull=True).select_related("user")
    with get_connection() as connection:
        for profile in profiles:
            if not ParticipantProfile.objects.filter(pk=profile.pk, invited_at__isnull=True).update(
                invited_at=timezone.now()
            ):
                continue
            try:
                invitation_message(profile=profile, connection=connection).send()
            except Exception:
                ParticipantProfile.objects.filter(pk=profile.pk).update(invited_at=None)
                raise
            sent += 1
    return sent
