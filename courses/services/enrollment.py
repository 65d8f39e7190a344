"""The enrollment import: participants created or updated from a file and enrolled, never taking over an account."""

from dataclasses import asdict, dataclass
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Case, Exists, OuterRef, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import user_email_index
from ..bulk_insert import bulk_insert
from ..conf import courses_setting
from ..enrollment_file import EnrollmentFileInvalid, EnrollmentRow, FileError, read_enrollment_file
from ..errors import EnrollmentConflict
from ..gc_pause import gc_paused
from ..models import Cohort, Enrollment, ParticipantProfile
from ..selectors import privileged_user_ids
from ..validators import email_key


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


# Values per IN list when looking people up: with longer lists on a large table, PostgreSQL's planner
# takes a sequential scan over the index (at 250,000 users, 1,000 NIPs cost 90 ms a statement against 10).
LOOKUP_CHUNK = 500


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Existing:
    """What the database already holds for the people of a file (see ``_existing_for_rows``)."""

    profiles: dict[str, ParticipantProfile]  # by NIP
    users_by_username: dict[str, Any]
    users_by_email: dict[str, list[Any]]  # by normalised email (email_key): every account, whichever case it uses
    privileged: set[int]  # ids of the staff, superuser and operator accounts among all of the above


def _matching_keys(*, nips: list[str], emails: list[str], batch: int) -> tuple[list[int], list[int], list[int]]:
    """The primary keys of the profiles with one of ``nips``, of the accounts named after one, and of
    the profiles whose normalised email is one of ``emails``.

    On PostgreSQL one statement, whatever the number of rows: each key of the file is looked up in its
    unique index (``LATERAL … LIMIT 1`` keeps the planner from hashing the whole table instead, which
    it prefers for a long list although it costs time in proportion to the table). Elsewhere IN lists
    of ``batch`` values."""
    User = get_user_model()
    profile, user = ParticipantProfile._meta, User._meta
    connection = connections[router.db_for_read(ParticipantProfile)]
    if connection.vendor != "postgresql":
        found: tuple[list[int], list[int], list[int]] = ([], [], [])
        for chunk in _chunks(nips, batch):
            found[0].extend(ParticipantProfile.objects.filter(nip__in=chunk).values_list("pk", flat=True))
            found[1].extend(User.objects.filter(username__in=chunk).values_list("pk", flat=True))
        for chunk in _chunks(emails, batch):
            keyed = ParticipantProfile.objects.filter(email_key__in=chunk).exclude(email_key="")
            found[2].extend(keyed.values_list("pk", flat=True))
        return found
    quote = connection.ops.quote_name

    def probe(kind: int, meta, column: str, keys: str, extra: str = "") -> str:
        table, pk, column = quote(meta.db_table), quote(meta.pk.column), quote(meta.get_field(column).column)
        return (
            f"SELECT {kind}, found.pk FROM {keys} CROSS JOIN LATERAL "
            f"(SELECT {pk} AS pk FROM {table} WHERE {column} = {keys}.value{extra} LIMIT 1) AS found"
        )

    email_key_column = quote(profile.get_field("email_key").column)
    statement = (
        # The keys as two texts split by the server: cheaper to send than arrays of ten thousand items.
        # No valid NIP or address holds a line break. Sorted, the probes walk each index in its order
        # (a third less time than in the file's order).
        "WITH file_nip AS MATERIALIZED (SELECT unnest(string_to_array(%s, E'\\n')) AS value), "
        "file_email AS MATERIALIZED (SELECT unnest(string_to_array(%s, E'\\n')) AS value) "
        + " UNION ALL ".join(
            [
                probe(0, profile, "nip", "file_nip"),
                probe(1, user, "username", "file_nip"),
                # The index of normalised emails leaves out the empty ones: the query says so, to use it.
                probe(2, profile, "email_key", "file_email", f" AND {email_key_column} <> ''"),
            ]
        )
    )
    found = ([], [], [])
    with connection.cursor() as cursor:
        cursor.execute(statement, ["\n".join(sorted(nips)), "\n".join(sorted(emails))])
        for kind, pk in cursor.fetchall():
            found[kind].append(pk)
    return found


def _without_jit() -> None:
    """On PostgreSQL, no JIT compiling for the rest of the import's transaction.

    Its lookups are thousands of small index probes in one statement; their summed cost estimate
    (a range probe is estimated at a thousand rows although it finds one) sets off JIT compiling,
    inlining and optimising included, which cost 100 ms against the probes' 20 ms at 250,000
    users. The writes that follow (COPY, small statements) never gain from it either."""
    connection = connections[router.db_for_write(ParticipantProfile)]
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _existing_for_rows(rows: list[EnrollmentRow], batch: int) -> _Existing:
    """Profiles by NIP, users by NIP username and by normalised email, and which of those accounts are
    privileged (one statement to find them, ``_matching_keys``, then a fixed number of queries per batch
    of what it found, and ``_unindexed_owners``)."""
    User = get_user_model()
    _without_jit()
    batch = min(batch, LOOKUP_CHUNK)
    existing = _Existing(profiles={}, users_by_username={}, users_by_email={}, privileged=set())
    emails = [row.email for row in rows]
    profile_ids, username_ids, email_ids = _matching_keys(nips=[row.nip for row in rows], emails=emails, batch=batch)
    user_ids: set[int] = set()
    for chunk in _chunks(profile_ids, batch):
        for profile in ParticipantProfile.objects.filter(pk__in=chunk).select_related("user"):
            existing.profiles[profile.nip] = profile
            user_ids.add(profile.user_id)
    for chunk in _chunks(username_ids, batch):
        for user in User.objects.filter(pk__in=chunk).select_related("participant_profile"):
            existing.users_by_username[user.username] = user
            user_ids.add(user.pk)
    owners: dict[int, tuple[str, Any]] = {}
    for chunk in _chunks(email_ids, batch):
        # The owners of the addresses among participants, by the profiles' index of normalised emails.
        for profile in ParticipantProfile.objects.filter(pk__in=chunk).select_related("user"):
            owners[profile.user_id] = (profile.email_key, profile.user)
    for user in _unindexed_owners(set(emails)):
        owners.setdefault(user.pk, (email_key(user.email), user))
    for pk in sorted(owners):
        key, user = owners[pk]
        existing.users_by_email.setdefault(key, []).append(user)
        user_ids.add(pk)
    for chunk in _chunks(sorted(user_ids), batch):
        existing.privileged |= privileged_user_ids(user_ids=chunk)
    return existing


def _unindexed_owners(emails: set[str]) -> list[Any]:
    """The accounts with one of ``emails`` that the profiles' index does not name: those without a
    profile (staff, operators, accounts of other apps) and the few whose profile has no key (an
    address shared with another profile since before the index).

    With the host's index on the user table's email (``courses.user_email_index``), one statement
    that probes it for the file's local parts, so the work follows the file; the addresses with a
    local part outside ASCII (which Django's validator lets through only for a few letters that
    case-fold to ASCII) and a database without the index are served by one query that reads the
    user table whole (about 75 ms at 250,000 users). Then one more to load the owners, when there
    are any, each address checked in full."""
    User = get_user_model()
    keyed = ParticipantProfile.objects.filter(user=OuterRef("pk")).exclude(email_key="")
    unkeyed = User.objects.exclude(email="").exclude(Exists(keyed))
    local_parts = {key.rpartition("@")[0] for key in emails}
    ascii_parts = {part for part in local_parts if part.isascii()}
    matching: set[int] = set()
    if ascii_parts and user_email_index.index_usable():
        profile = ParticipantProfile._meta
        matching.update(
            user_email_index.accounts_by_local_part(
                sorted(ascii_parts),
                unkeyed_only_of=(
                    profile.db_table,
                    profile.get_field("user").column,
                    profile.get_field("email_key").column,
                ),
            )
        )
        scanned = len(ascii_parts) < len(local_parts)
    else:
        scanned = bool(emails)
    if scanned:
        candidates = unkeyed.values_list("pk", "email")
        matching.update(pk for pk, address in candidates.iterator(chunk_size=2000) if email_key(address) in emails)
    if not matching:
        return []
    owners = User.objects.filter(pk__in=sorted(matching)).select_related("participant_profile")
    return [user for user in owners if email_key(user.email) in emails]


def email_key_sync(sender, instance, created: bool = False, update_fields=None, raw: bool = False, **kwargs) -> None:
    """post_save of the user model: the profile's ``email_key`` follows the user's email (one UPDATE,
    none when the save did not write the email). An address another profile already has leaves the
    key empty rather than fail the save: the import then still finds the account (``_unindexed_owners``)."""
    if created or raw or (update_fields is not None and "email" not in update_fields):
        return
    key = email_key(instance.email)
    taken = ParticipantProfile.objects.filter(email_key=key).exclude(email_key="").exclude(user_id=instance.pk)
    ParticipantProfile.objects.filter(user_id=instance.pk).exclude(email_key=key).update(
        email_key=Case(When(Exists(taken), then=Value("")), default=Value(key))
    )


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


@gc_paused()  # thousands of short-lived rows: no walk over the whole heap meanwhile
@transaction.atomic
def enrollment_import(
    *,
    cohort: Cohort,
    upload: IO[bytes],
    name: str = "",
    size: int | None = None,
    dry_run: bool = False,
    by=None,
) -> EnrollmentImportResult:
    """Enrol the people of an enrolment file (CSV or XLSX) into ``cohort``.

    Side effects (not in a dry run): creates accounts (username = NIP, no usable password) and
    profiles for new people, updates changed name/email/unit/position of known people (matched by
    NIP), enrols everyone in the cohort, and after commit enqueues invitation emails for the new
    accounts. Never attaches a profile to, nor changes, an account that is not purely a
    participant's (staff, superuser, operator, or a plain account named after the NIP): such rows
    are errors, in a dry run too (``_account_conflicts`` has the rules). All or nothing: any invalid
    row raises EnrollmentFileInvalid listing every problem and writes nothing. Idempotent: importing
    the same file again reports everything unchanged. A real import is recorded in the audit log
    (``by``: the operator) with its counts.
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
    for chunk in _chunks([p.pk for p in profiles.values()], min(batch, LOOKUP_CHUNK)):
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
        warnings=(*getattr(rows, "warnings", ()), *((_hidden_rows_warning(hidden),) if hidden else ())),
    )
    if dry_run:
        return result

    try:
        with transaction.atomic():
            new_profiles = _create_participants(new_rows, batch)
            _update_participants(changed, batch)
            Enrollment.objects.bulk_create(
                [Enrollment(cohort=cohort, participant=p) for p in profiles.values() if p.pk not in enrolled_ids],
                batch_size=batch,
                ignore_conflicts=True,
            )
            # New profiles have no enrolment anywhere yet: nothing to skip, so COPY can write them.
            bulk_insert(
                Enrollment,
                [{"cohort_id": cohort.pk, "participant_id": profile_id} for profile_id, _user_id in new_profiles],
                batch_size=batch,
                keys=False,
            )
            from .operator import audit_record

            audit_record(
                actor=by,
                action="import",
                cohort=cohort,
                details={
                    "file": name[:200],
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "total": result.total,
                    "enrolled": result.enrolled,
                },
            )
    except IntegrityError as exc:
        raise EnrollmentConflict() from exc

    invite_ids = [user_id for _profile_id, user_id in new_profiles]
    if invite_ids:
        from ..tasks import invitations_send_task

        for chunk in _chunks(invite_ids, 500):
            # robust: a broker outage must not turn a saved import into an error; the sweep sends later.
            transaction.on_commit(lambda chunk=chunk: invitations_send_task.delay(chunk), robust=True)
    return result


def _create_participants(rows: list[EnrollmentRow], batch: int) -> list[tuple[int, int]]:
    """Accounts and profiles for ``rows``; returns (profile id, user id) for each, in order."""
    # Always new accounts: an existing account named after a NIP was refused by _account_conflicts,
    # and one created since then makes the insert fail (EnrollmentConflict) rather than be taken over.
    unusable = make_password(None)
    user_ids = bulk_insert(
        get_user_model(),
        [{"username": row.nip, "email": row.email, "password": unusable} for row in rows],
        batch_size=batch,
    )
    profiles = [
        {
            "user_id": user_id,
            "nip": row.nip,
            "full_name": row.full_name,
            "unit": row.unit,
            "position": row.position,
            "email_key": row.email,  # the file's addresses are in their normal form already
        }
        for user_id, row in zip(user_ids, rows, strict=True)
    ]
    return list(zip(bulk_insert(ParticipantProfile, profiles, batch_size=batch), user_ids, strict=True))


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
        profile.email_key = row.email
    ParticipantProfile.objects.bulk_update(
        [p for p, _ in changed], ["full_name", "unit", "position", "email_key", "updated_at"], batch_size=batch
    )
    if users:
        get_user_model().objects.bulk_update(users, ["email"], batch_size=batch)
