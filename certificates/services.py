"""Every write the certificates app does: course settings, issuing, revoking, re-issuing, the sweep, archives."""

import datetime
import hashlib
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from courses.conf import site_url
from courses.curriculum import CurriculumError, CurriculumReport, require, sync_row
from courses.locks import enrollment_lock, enrollments_lock
from courses.models import Enrollment

from .codes import code_display, code_generate
from .conf import certificates_setting
from .credential_store import credential_issue, credentials_issue
from .errors import AlreadyRevoked, NotCompleted, ReasonRequired, SealUnavailable, StillValid
from .models import (
    ArchiveStatus,
    Certificate,
    CertificateArchive,
    CertificateSettings,
    CertificateStatus,
    IssueJob,
    IssueQueue,
    NumberCounter,
    default_issue_place,
    default_issuer_name,
    default_signatory_name,
    default_signatory_nip,
    default_signatory_position,
    default_signatory_rank,
    default_title,
)
from .pdf import CertificateContent
from .sealed_pdf import render_sealed_certificate
from .sealing import Sealer, configured_sealer
from .selectors import certificate_filename, certificate_number_prefix
from .verification_cache import verification_forget

logger = logging.getLogger(__name__)


def verify_url(code: str) -> str:
    """``{SITE_URL}/verify/{code}/`` with the code as displayed; exactly what the QR code holds."""
    return site_url() + reverse("certificates:verify", kwargs={"code": code_display(code)})


# The ``certificate:`` block of course.yaml: its keys and the settings field each fills.
_CERTIFICATE_BLOCK = {"title": "title", "issuer": "issuer_name", "place": "issue_place"}
_SIGNATORY_BLOCK = {
    "name": "signatory_name",
    "position": "signatory_position",
    "nip": "signatory_nip",
    "rank": "signatory_rank",
}


def _certificate_block_values(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The settings the course.yaml states: ``jp`` and the optional ``certificate:`` block
    (``title``, ``issuer``, ``place``, ``signatory: {name, position, nip, rank}``). What it leaves
    out stays as the admin or the defaults set it. Raises CurriculumError naming ``path``."""
    values: dict[str, Any] = {}
    if data.get("jp") is not None:
        jp = data["jp"]
        if not isinstance(jp, int) or isinstance(jp, bool) or not 0 < jp < 10000:
            raise CurriculumError(f"{path}: 'jp' must be a whole number of hours of study (1 JP = 45 minutes)")
        values["jp"] = jp
    block = data.get("certificate")
    if block is None:
        return values
    if not isinstance(block, dict):
        raise CurriculumError(f"{path}: 'certificate' must be a mapping")
    signatory = block.get("signatory") or {}
    if not isinstance(signatory, dict):
        raise CurriculumError(f"{path}: 'certificate.signatory' must be a mapping")
    unknown = (set(block) - {*_CERTIFICATE_BLOCK, "signatory"}) | {
        f"signatory.{k}" for k in set(signatory) - set(_SIGNATORY_BLOCK)
    }
    if unknown:
        raise CurriculumError(f"{path}: 'certificate' has unknown keys: {', '.join(sorted(map(str, unknown)))}")
    for source, keys in ((block, _CERTIFICATE_BLOCK), (signatory, _SIGNATORY_BLOCK)):
        for key, field in keys.items():
            if key in source:
                value = source[key]
                if not isinstance(value, str | int) or isinstance(value, bool):
                    raise CurriculumError(f"{path}: 'certificate' {key!r} must be text")
                value = str(value).strip()
                limit = CertificateSettings._meta.get_field(field).max_length
                if len(value) > limit:
                    raise CurriculumError(f"{path}: 'certificate' {key!r} is longer than {limit} characters")
                values[field] = value
    return values


def certificate_settings_load(
    *, course, data: dict[str, Any], path: Path, report: CurriculumReport
) -> CertificateSettings:
    """Keep the course's certificate settings as its ``course.yaml`` gives them: ``certificate_prefix``
    (required), ``jp`` and the optional ``certificate:`` block; a new row takes the CERTIFICATES_*
    defaults for what the file does not state, an existing row keeps its values for those.

    Runs inside the curriculum load (``curriculum_course_loaded``): a missing prefix or a malformed
    value raises CurriculumError and rolls the load back. Side effects: creates or updates the
    settings row and records it in ``report``. Idempotent: unchanged files write nothing.
    """
    return sync_row(
        kind="certificate settings",
        instance=CertificateSettings.objects.filter(course=course).first(),
        values={"number_prefix": require(data, "certificate_prefix", path), **_certificate_block_values(data, path)},
        create=lambda **values: CertificateSettings.objects.create(course=course, **values),
        report=report,
    )


def _next_number(*, prefix: str, year: int) -> str:
    """The next number for ``prefix`` and ``year``, gap-free under concurrent issuing."""
    return _next_numbers(prefix=prefix, year=year, count=1)[0]


def _next_numbers(*, prefix: str, year: int, count: int) -> list[str]:
    """The next ``count`` consecutive numbers for ``prefix`` and ``year``, gap-free under concurrent
    issuing, taken by one statement.

    The UPDATE takes the counter row's lock (the same lock ``select_for_update`` would) and holds
    it until the caller commits, so concurrent issuers queue here and a rollback gives the numbers
    back; doing it as one UPDATE … RETURNING saves a round trip per certificate. The caller keeps
    that transaction short: the PDFs are rendered after it."""
    table = connection.ops.quote_name(NumberCounter._meta.db_table)
    sql = f"UPDATE {table} SET last = last + %s WHERE prefix = %s AND year = %s RETURNING last"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, prefix, year])
        row = cursor.fetchone()
        if row is None:  # first certificate of this prefix and year
            try:
                with transaction.atomic():
                    NumberCounter.objects.create(prefix=prefix, year=year)
            except IntegrityError:  # another issuer created it first
                pass
            cursor.execute(sql, [count, prefix, year])
            row = cursor.fetchone()
    return [f"{prefix}/{year}/{n:05d}" for n in range(row[0] - count + 1, row[0] + 1)]


def _certificate_snapshot(enrollment: Enrollment) -> dict[str, Any]:
    """Everything the certificate will say, copied from the enrolment, its participant, cohort, the
    course's certificate settings (CERTIFICATES_* defaults for a course without any) and the cohort's
    own signing official if it has one. No query when those were selected with the enrolment."""
    cohort, participant = enrollment.cohort, enrollment.participant
    course = cohort.course
    terms = _related(course, "certificate_settings")
    override = _related(cohort, "certificate_signatory")
    signatory = override or terms
    return {
        "holder_name": participant.full_name,
        "holder_nip": participant.nip,
        "holder_position": participant.position,
        "holder_unit": participant.unit,
        "course_title": course.title,
        "cohort_name": cohort.name,
        "period_starts_on": cohort.starts_on,
        "period_ends_on": cohort.ends_on,
        "jp": terms.jp if terms else None,
        "title": terms.title if terms else default_title(),
        "issuer_name": terms.issuer_name if terms else default_issuer_name(),
        "issue_place": terms.issue_place if terms else default_issue_place(),
        "signatory_name": signatory.signatory_name if signatory else default_signatory_name(),
        "signatory_position": signatory.signatory_position if signatory else default_signatory_position(),
        "signatory_nip": signatory.signatory_nip if signatory else default_signatory_nip(),
        "signatory_rank": signatory.signatory_rank if signatory else default_signatory_rank(),
    }


def _related(instance, name: str):
    """The object a reverse one-to-one names, or None when there is none."""
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


_SNAPSHOT_RELATED = (
    "participant",
    "cohort__course__certificate_settings",
    "cohort__certificate_signatory",
)


def _certificate_create(*, enrollment: Enrollment, replaces: Certificate | None = None) -> Certificate:
    """A new certificate row for the locked ``enrollment``: next number, fresh code, the snapshot."""
    issued_at = timezone.now()
    course = enrollment.cohort.course
    # A code collision (60 random bits) fails the insert; the task retries with a fresh code.
    certificate = _certificate_row(
        enrollment=enrollment,
        number=_next_number(prefix=certificate_number_prefix(course=course), year=timezone.localdate(issued_at).year),
        issued_at=issued_at,
        replaces=replaces,
    )
    certificate.save(force_insert=True)
    # Its Open Badges credential, signed in the same transaction: both exist, or neither.
    credential_issue(certificate=certificate, cohort=enrollment.cohort, course=course)
    if replaces is not None:  # its verification now names this one as its replacement
        verification_forget(replaces.code)
    return certificate


def _certificate_row(
    *, enrollment: Enrollment, number: str, issued_at: datetime.datetime, replaces: Certificate | None = None
) -> Certificate:
    """The (unsaved) certificate of ``enrollment`` with ``number``, a fresh code and the snapshot."""
    return Certificate(
        enrollment=enrollment,
        number=number,
        code=code_generate(),
        issued_at=issued_at,
        replaces=replaces,
        **_certificate_snapshot(enrollment),
    )


@transaction.atomic
def _certificate_reserve(*, enrollment_id: int, reissue: bool) -> Certificate | None:
    """Phase 1, one short transaction: the enrolment's certificate row with its number, code and
    the text it will carry. Returns the valid certificate if there is one already."""
    # The enrolment's row lock serialises issuers of the same enrolment; plain queries rather than
    # annotated subqueries, as compiling those cost more than the database's work.
    enrollment = enrollment_lock(enrollment_id, select_related=_SNAPSHOT_RELATED)
    if enrollment.completed_at is None:
        raise NotCompleted()
    existing = list(
        Certificate.objects.filter(enrollment_id=enrollment_id)
        .values_list("pk", "status")
        .order_by("-issued_at", "-pk")
    )
    valid = next((pk for pk, status in existing if status == CertificateStatus.VALID), None)
    if valid is not None:
        return Certificate.objects.get(pk=valid)
    if existing and not reissue:
        return None  # revoked on purpose: only an operator issues again
    replaces = None
    if existing:  # an operator's re-issue after a revocation: the new one replaces the latest
        replaces = Certificate.objects.filter(pk=existing[0][0], replaced_by__isnull=True).first()
    return _certificate_create(enrollment=enrollment, replaces=replaces)


DEFAULT_TITLE_EN = "Certificate of Training"


def certificate_content(certificate: Certificate, *, issuer_logo: bytes | None = None) -> CertificateContent:
    """What the PDF shows, taken only from the certificate row (never from the live profile or
    settings), plus the issuing body's logo (``issuer_logo``; None: the text mark)."""
    return CertificateContent(
        holder_name=certificate.holder_name,
        holder_nip=certificate.holder_nip,
        holder_position=certificate.holder_position,
        holder_unit=certificate.holder_unit,
        course_title=certificate.course_title,
        cohort_name=certificate.cohort_name,
        starts_on=certificate.period_starts_on,
        ends_on=certificate.period_ends_on,
        jp=certificate.jp,
        issued_on=timezone.localdate(certificate.issued_at),
        number=certificate.number,
        code=code_display(certificate.code),
        verify_url=verify_url(certificate.code),
        # Certificates recorded before the official fields existed carry none of them.
        title=certificate.title or default_title(),
        issuer=certificate.issuer_name or default_issuer_name(),
        issuer_logo=issuer_logo,
        place=certificate.issue_place,
        signatory_name=certificate.signatory_name,
        signatory_position=certificate.signatory_position,
        signatory_nip=certificate.signatory_nip,
        signatory_rank=certificate.signatory_rank,
        sealed=True,
    )


def _issuer_logo(certificate: Certificate) -> bytes | None:
    """The course's logo file as it is now (read when rendering), or None for the text mark."""
    return _logo_of(CertificateSettings.objects.filter(course__cohorts__enrollments=certificate.enrollment_id).first())


def _logo_of(terms: CertificateSettings | None) -> bytes | None:
    """The logo file of a course's certificate settings, or None for the text mark."""
    if terms is None or not terms.issuer_logo:
        return None
    try:
        with terms.issuer_logo.open("rb") as logo:
            return logo.read()
    except OSError:
        logger.warning("the logo of %s cannot be read; the certificate shows the text mark", terms)
        return None


def issuing_sealer() -> Sealer:
    """The seal certificates are issued with: the configured PKCS#12, or the demo seal (created on
    first use when none is configured). Raises SealUnavailable when a configured one cannot seal
    (unreadable, wrong passphrase, expired): nothing is ever issued unsealed."""
    try:
        sealer = configured_sealer()
    except (OSError, ValueError) as exc:
        logger.error("the electronic seal cannot be loaded: %s", exc)
        raise SealUnavailable() from exc
    if sealer.describe().valid_until <= timezone.now():
        logger.error("the electronic seal's certificate has expired")
        raise SealUnavailable()
    return sealer


def _certificate_render(certificate: Certificate, *, sealer: Sealer) -> Certificate:
    """Phase 2, outside any lock: render the PDF, seal it, store it, record the SHA-256 of the sealed
    bytes and who sealed them (first writer wins: a seal carries its time, so a concurrent render
    gives other bytes, and the first stored is the certificate's file)."""
    pdf_bytes = render_sealed_certificate(
        certificate_content(certificate, issuer_logo=_issuer_logo(certificate)), sealer=sealer
    )
    stored, sha256 = _pdf_store(certificate, pdf_bytes)
    signer = _seal_signer(sealer)
    if Certificate.objects.filter(pk=certificate.pk, sha256="").update(pdf=stored, sha256=sha256, seal_signer=signer):
        certificate.pdf.name, certificate.sha256, certificate.seal_signer = stored, sha256, signer
        verification_forget(certificate.code, hold=False)  # it now says who sealed it; still valid
    else:  # someone stored it first: keep theirs
        certificate.pdf.storage.delete(stored)
        certificate.refresh_from_db()
    return certificate


def _pdf_store(certificate: Certificate, pdf_bytes: bytes) -> tuple[str, str]:
    """Store the sealed PDF under a fresh name; its stored name and SHA-256."""
    year = timezone.localdate(certificate.issued_at).year
    stored = certificate.pdf.storage.save(
        certificate.pdf.field.generate_filename(certificate, f"{year}/{certificate.code}.pdf"), ContentFile(pdf_bytes)
    )
    return stored, hashlib.sha256(pdf_bytes).hexdigest()


def _seal_signer(sealer: Sealer) -> str:
    return sealer.describe().subject[: Certificate._meta.get_field("seal_signer").max_length]


def certificate_issue(*, enrollment_id: int, reissue: bool = False) -> Certificate | None:
    """Issue the certificate of a completed enrolment and return it.

    Side effects: in one short transaction, takes the next gap-free number for the course prefix
    and year and records the certificate with everything it says (holder's name, NIP, position and
    unit; course, cohort and its period; JP, title, issuer, place, signing official, the cohort's
    own if it has one), so later profile or settings changes never alter it, with its signed Open
    Badges credential (and the next gap-free status list index); then renders the PDF once, seals
    it with the issuing body's electronic seal and stores it with the SHA-256 of the sealed bytes. Idempotent: returns the valid certificate if there is one (rendering its PDF if an
    earlier attempt stopped before that); the enrolment row lock and the one-valid-per-enrolment
    constraint make retried, duplicated or concurrent calls produce exactly one. After a revocation
    it issues nothing unless ``reissue`` (an operator's decision) is set, then a new number and code.
    Raises NotCompleted; SealUnavailable (before taking a number) when the configured seal cannot seal.
    """
    sealer = issuing_sealer()
    certificate = _certificate_reserve(enrollment_id=enrollment_id, reissue=reissue)
    if certificate is not None and not certificate.sha256:
        certificate = _certificate_render(certificate, sealer=sealer)
    return certificate


def issue_delivery_start(*, enrollment_id: int) -> bool:
    """Count one delivery of the issuing message; False once too many in a row did not finish
    (a poison message that kills its worker, or keeps failing) or the job was set aside.

    One statement, committed on its own before the work, so a worker killed mid-issue still
    leaves the count behind. ``issue_delivery_finish`` resets it.
    """
    with transaction.atomic():
        attempts, failed_at = _delivery_count(enrollment_id=enrollment_id, finished=False)
    if failed_at is not None:
        return False
    if attempts > certificates_setting("MAX_DELIVERIES"):
        IssueJob.objects.filter(enrollment_id=enrollment_id, failed_at__isnull=True).update(
            failed_at=timezone.now(),
            last_error="too many unfinished deliveries: set aside; use the “Retry issuing” admin action",
        )
        logger.error("certificate for enrolment %s: giving up after %s unfinished deliveries", enrollment_id, attempts)
        return False
    return True


def issue_delivery_finish(*, enrollment_id: int) -> None:
    """The delivery finished (issued, or nothing to issue): the next one starts counting afresh."""
    IssueJob.objects.filter(enrollment_id=enrollment_id, attempts__gt=0).update(attempts=0)


def issue_failure_record(*, enrollment_id: int, error: str) -> None:
    IssueJob.objects.filter(enrollment_id=enrollment_id).update(last_error=error[:2000])


def issue_delivery(*, enrollment_id: int) -> Certificate | None:
    """One delivery of the enrolment's issuing message, on its own: count it (``issue_delivery_start``;
    None once set aside), issue (``certificate_issue``), mark it finished. A delivery for an enrolment
    that is not completed finishes with None; a database error or an unusable seal is recorded on the
    job and raised (the task retries, the sweep later)."""
    if not issue_delivery_start(enrollment_id=enrollment_id):
        return None
    try:
        certificate = certificate_issue(enrollment_id=enrollment_id)
    except NotCompleted:
        logger.warning("enrolment %s is not completed; no certificate issued", enrollment_id)
        certificate = None
    except (DatabaseError, SealUnavailable) as exc:
        # A seal that cannot seal (certificates.E002) issues nothing: the sweep tries again later.
        issue_failure_record(enrollment_id=enrollment_id, error=repr(exc))
        raise
    issue_delivery_finish(enrollment_id=enrollment_id)
    return certificate


# --- Batch issuing ---------------------------------------------------------------------------
# Session-level advisory locks (ISSUE_LOCK, enrolment id) mark the enrolments a running delivery is
# issuing. They outlive its transactions, so a batch holds its enrolments while it renders outside
# any, and a worker killed mid-batch loses them with its connection.
ISSUE_LOCK = 0x43455254  # "CERT"


def _issue_lock_try(enrollment_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, (%s %% 2147483648)::int)", [ISSUE_LOCK, enrollment_id])
        return cursor.fetchone()[0]


def _issue_lock_wait(enrollment_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, (%s %% 2147483648)::int)", [ISSUE_LOCK, enrollment_id])


def _issue_unlock(enrollment_ids: list[int]) -> None:
    if enrollment_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, (id %% 2147483648)::int) FROM unnest(%s::bigint[]) AS id",
                [ISSUE_LOCK, enrollment_ids],
            )


def _pending_lock(*, exclude: int, limit: int) -> list[int]:
    """Up to ``limit`` enrolments completed without any certificate whose issuing no delivery has
    started (or all finished), oldest completion first, other than ``exclude``; one statement, which
    also takes their advisory locks, skipping those another delivery holds."""
    sql = f"""
        WITH candidates AS MATERIALIZED (
            SELECT e.id FROM {Enrollment._meta.db_table} e
            WHERE e.completed_at IS NOT NULL AND e.id <> %s
              AND NOT EXISTS (SELECT 1 FROM {Certificate._meta.db_table} c WHERE c.enrollment_id = e.id)
              AND NOT EXISTS (
                  SELECT 1 FROM {IssueJob._meta.db_table} j
                  WHERE j.enrollment_id = e.id AND (j.attempts > 0 OR j.failed_at IS NOT NULL))
            ORDER BY e.completed_at, e.id
            LIMIT %s)
        SELECT id FROM candidates WHERE pg_try_advisory_lock(%s, (id %% 2147483648)::int)
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [exclude, limit, ISSUE_LOCK])
        return [row[0] for row in cursor.fetchall()]


def _issue_claim(*, enrollment_ids: list[int], claim: str) -> list[int]:
    """Count one delivery of each enrolment's issuing, in one statement, for those no other delivery
    has started meanwhile (``issue_delivery_start`` for a batch); the ids claimed."""
    table = connection.ops.quote_name(IssueJob._meta.db_table)
    sql = (
        f"INSERT INTO {table} (enrollment_id, deliveries, attempts, last_started_at, last_error, claimed_by) "  # noqa: S608
        "SELECT id, 1, 1, %s, '', %s FROM unnest(%s::bigint[]) AS id "
        f"ON CONFLICT (enrollment_id) DO UPDATE SET deliveries = {table}.deliveries + 1, attempts = 1, "
        "last_started_at = excluded.last_started_at, claimed_by = excluded.claimed_by "
        f"WHERE {table}.attempts = 0 AND {table}.failed_at IS NULL RETURNING enrollment_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now(), claim, enrollment_ids])
        return [row[0] for row in cursor.fetchall()]


@transaction.atomic
def _batch_reserve(*, enrollment_ids: list[int]) -> list[Certificate]:
    """``_certificate_reserve`` for several enrolments, in one short transaction: their rows locked
    (id order), and for those completed without any certificate, consecutive numbers per prefix
    (one counter statement each, prefixes in order, so batches never deadlock), one insert of the
    certificates and one of their credentials. In completion order."""
    enrollments = list(
        enrollments_lock(
            Enrollment.objects.filter(pk__in=enrollment_ids, completed_at__isnull=False).select_related(
                *_SNAPSHOT_RELATED
            )
        )
    )
    taken = set(
        Certificate.objects.filter(enrollment_id__in=[e.pk for e in enrollments]).values_list(
            "enrollment_id", flat=True
        )
    )
    enrollments.sort(key=lambda e: (e.completed_at, e.pk))
    issued_at = timezone.now()
    by_prefix: dict[str, list[Enrollment]] = {}
    for enrollment in enrollments:
        if enrollment.pk not in taken:
            by_prefix.setdefault(certificate_number_prefix(course=enrollment.cohort.course), []).append(enrollment)
    certificates = []
    for prefix in sorted(by_prefix):
        group = by_prefix[prefix]
        numbers = _next_numbers(prefix=prefix, year=timezone.localdate(issued_at).year, count=len(group))
        certificates += [
            _certificate_row(enrollment=e, number=n, issued_at=issued_at) for e, n in zip(group, numbers, strict=True)
        ]
    # A code collision (60 random bits) fails the insert and rolls back every number: the task retries.
    Certificate.objects.bulk_create(certificates)
    credentials_issue(issued=[(c, c.enrollment.cohort, c.enrollment.cohort.course) for c in certificates])
    return certificates


def _batch_render(*, certificates: list[Certificate], claimed: list[int], sealer: Sealer) -> None:
    """Render, seal and store each reserved certificate outside any transaction, then record them all
    in one transaction: SHA-256, file and sealer in one statement (first writer wins, as in
    ``_certificate_render``), and their deliveries finished. When one fails, those rendered before it
    are recorded all the same and the error is raised; the rest stay reserved, still claimed, for the
    retried delivery to issue one at a time."""
    logos: dict[int, bytes | None] = {}
    rendered: list[tuple[Certificate, str, str]] = []
    failed = None
    try:
        for certificate in certificates:
            failed = certificate
            course = certificate.enrollment.cohort.course
            if course.pk not in logos:
                logos[course.pk] = _logo_of(_related(course, "certificate_settings"))
            pdf_bytes = render_sealed_certificate(
                certificate_content(certificate, issuer_logo=logos[course.pk]), sealer=sealer
            )
            rendered.append((certificate, *_pdf_store(certificate, pdf_bytes)))
        failed = None
    except Exception as exc:
        if failed is not None:
            IssueJob.objects.filter(enrollment_id=failed.enrollment_id).update(last_error=repr(exc)[:2000])
        raise
    finally:
        unfinished = {c.enrollment_id for c in certificates[len(rendered) :]}
        _batch_record(
            rendered=rendered, finished=[pk for pk in claimed if pk not in unfinished], signer=_seal_signer(sealer)
        )


@transaction.atomic
def _batch_record(*, rendered: list[tuple[Certificate, str, str]], finished: list[int], signer: str) -> None:
    table = connection.ops.quote_name(Certificate._meta.db_table)
    sql = (
        f"UPDATE {table} SET pdf = v.pdf, sha256 = v.sha256, seal_signer = %s "  # noqa: S608
        "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, pdf, sha256) "
        f"WHERE {table}.id = v.id AND {table}.sha256 = '' RETURNING {table}.id"
    )
    recorded: set[int] = set()
    if rendered:
        with connection.cursor() as cursor:
            cursor.execute(
                sql, [signer, *map(list, zip(*[(c.pk, name, sha) for c, name, sha in rendered], strict=True))]
            )
            recorded = {row[0] for row in cursor.fetchall()}
    IssueJob.objects.filter(enrollment_id__in=finished, attempts__gt=0).update(attempts=0)
    for certificate, name, sha256 in rendered:
        if certificate.pk in recorded:
            certificate.pdf.name, certificate.sha256, certificate.seal_signer = name, sha256, signer
        else:  # someone stored it first: keep theirs
            certificate.pdf.storage.delete(name)
            certificate.refresh_from_db()
    # They now say who sealed them; still valid.
    verification_forget(*(c.code for c, _name, _sha in rendered if c.pk in recorded), hold=False)


def certificate_issue_batch(
    *, enrollment_id: int, claim: str, limit: int | None = None, more: Callable[[], None] | None = None
) -> Certificate | None:
    """One delivery of the enrolment's issuing message (``claim``: the delivery's id, the same when
    it is redelivered or retried): issue its certificate together with those of up to ``limit - 1``
    (CERTIFICATES_ISSUE_BATCH) other enrolments completed without one, and return its certificate.

    Side effects, for a batch: one transaction claims the enrolments (their advisory locks, one
    delivery counted on each job, committed before the work as in ``issue_delivery_start``); one
    takes their numbers and records them with their credentials (``_batch_reserve``); the PDFs are
    rendered, sealed and stored outside any transaction; one records them and finishes the
    deliveries (``_batch_render``). Everything else goes one enrolment at a time
    (``issue_delivery``): a certificate issued already (the delivery is counted), an enrolment not
    completed, set aside or whose earlier delivery did not finish, so a poison enrolment is set
    aside on its own, never with a batch; a redelivered or retried batch then also issues, one at a
    time, what it had claimed and not finished. A delivery whose enrolment another running delivery
    holds leaves it to that one (None). Idempotent like ``certificate_issue``: the advisory locks
    keep two batches off the same enrolment, and the enrolment row locks and the one valid
    certificate per enrolment keep the single path and batches from issuing twice.
    With ``more`` (the issuing task's, which took the ``IssueQueue`` mark off as it started): a
    delivery that claims no batch of its own (a duplicate, or one issuing alone) then claims one of
    the enrolments completed meanwhile (``certificate_issue_pending``), and ``more()`` is called
    after a full batch, to queue the next one.
    Raises SealUnavailable (before claiming anything); what rendering raises (after recording what
    was rendered before it).
    """
    if connection.vendor != "postgresql":  # no advisory locks (SQLite, the local default): one at a time
        return issue_delivery(enrollment_id=enrollment_id)
    certificate, batched = _lead_batch_issue(enrollment_id=enrollment_id, claim=claim, limit=limit, more=more)
    if more is not None and not batched:
        certificate_issue_pending(claim=claim, limit=limit, more=more)
    return certificate


def _lead_batch_issue(
    *, enrollment_id: int, claim: str, limit: int | None, more: Callable[[], None] | None
) -> tuple[Certificate | None, bool]:
    """``certificate_issue_batch`` for the delivery's own enrolment: its certificate, and whether it
    led a batch."""
    job = IssueJob.objects.filter(enrollment_id=enrollment_id).values("attempts", "claimed_by").first()
    issued = (
        Certificate.objects.filter(enrollment_id=enrollment_id, status=CertificateStatus.VALID)
        .exclude(sha256="")
        .first()
    )
    if issued is not None:  # a duplicate, or a retry of a batch that failed after issuing it
        certificate = issued if _delivery_finished(enrollment_id=enrollment_id) else None
        if job and job["claimed_by"] == claim:
            _batch_orphans_issue(claim=claim, exclude=enrollment_id)
        return certificate, False
    sealer = issuing_sealer()
    if not _issue_lock_try(enrollment_id):
        if job and job["attempts"] and job["claimed_by"] not in ("", claim):
            return None, False  # another delivery's batch is issuing it (or will, when redelivered)
        _issue_lock_wait(enrollment_id)  # this delivery's killed predecessor, until its connection ends
    locked = [enrollment_id]
    limit = limit or certificates_setting("ISSUE_BATCH")
    try:
        job = IssueJob.objects.filter(enrollment_id=enrollment_id).values("attempts", "failed_at", "claimed_by").first()
        fresh = (job is None or (not job["attempts"] and job["failed_at"] is None)) and (
            Enrollment.objects.filter(pk=enrollment_id, completed_at__isnull=False)
            .filter(~Exists(Certificate.objects.filter(enrollment=OuterRef("pk"))))
            .exists()
        )
        if not fresh:
            certificate = issue_delivery(enrollment_id=enrollment_id)
            if job and job["claimed_by"] == claim:
                _batch_orphans_issue(claim=claim, exclude=enrollment_id)
            return certificate, False
        with transaction.atomic():
            locked += _pending_lock(exclude=enrollment_id, limit=limit - 1)
            claimed = _issue_claim(enrollment_ids=locked, claim=claim)
        # Committed: a worker killed from here on leaves the deliveries counted.
        certificates = _batch_reserve(enrollment_ids=claimed)
        _batch_render(certificates=certificates, claimed=claimed, sealer=sealer)
    finally:
        _issue_unlock(locked)
        if more is not None and len(locked) >= limit:
            more()
    lead = next((c for c in certificates if c.enrollment_id == enrollment_id), None)
    return lead or Certificate.objects.filter(enrollment_id=enrollment_id, status=CertificateStatus.VALID).first(), True


def certificate_issue_pending(*, claim: str, more: Callable[[], None], limit: int | None = None) -> int:
    """One batch of up to ``limit`` (CERTIFICATES_ISSUE_BATCH) enrolments completed without a
    certificate, oldest first, claimed by delivery ``claim`` as ``certificate_issue_batch`` claims
    them (those another delivery holds are left to it), after issuing, one at a time, what an earlier
    run of this delivery claimed and did not finish; ``more()`` after a full batch, to queue the
    next. Returns how many it issued. Nothing on other databases than PostgreSQL, where every
    completion has a message of its own."""
    if connection.vendor != "postgresql":
        return 0
    _batch_orphans_issue(claim=claim, exclude=0)
    sealer = issuing_sealer()
    limit = limit or certificates_setting("ISSUE_BATCH")
    locked: list[int] = []
    try:
        with transaction.atomic():
            locked = _pending_lock(exclude=0, limit=limit)
            claimed = _issue_claim(enrollment_ids=locked, claim=claim) if locked else []
        if not claimed:
            return 0
        certificates = _batch_reserve(enrollment_ids=claimed)
        _batch_render(certificates=certificates, claimed=claimed, sealer=sealer)
    finally:
        _issue_unlock(locked)
        if len(locked) >= limit:
            more()
    return len(certificates)


# --- One queued issuing task for a burst of completions (IssueQueue) --------------------------


def _issue_queue_upsert(*, only_if_unmarked: bool) -> bool:
    now = timezone.now()
    table = connection.ops.quote_name(IssueQueue._meta.db_table)
    condition = f" WHERE {table}.queued_at IS NULL OR {table}.queued_at < %s" if only_if_unmarked else ""
    sql = (
        f"INSERT INTO {table} (id, queued_at) VALUES (1, %s) "  # noqa: S608
        f"ON CONFLICT (id) DO UPDATE SET queued_at = excluded.queued_at{condition} RETURNING id"
    )
    stale = now - datetime.timedelta(seconds=certificates_setting("ISSUE_QUEUE_SECONDS"))
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, stale] if only_if_unmarked else [now])
        return cursor.fetchone() is not None


def issue_task_wanted() -> bool:
    """Whether an enrolment whose completion just committed needs an issuing message of its own.
    No while an issuing task queued less than CERTIFICATES_ISSUE_QUEUE_SECONDS ago has not started
    (it claims every completion committed before it starts); otherwise yes, and that task is marked
    as queued now, for the caller to send (``issue_queue_clear`` if sending fails). One statement.
    Always yes on other databases than PostgreSQL (one message per completion there), with
    CERTIFICATES_ISSUE_QUEUE_SECONDS 0, and when the database cannot answer."""
    if connection.vendor != "postgresql" or not certificates_setting("ISSUE_QUEUE_SECONDS"):
        return True
    try:
        return _issue_queue_upsert(only_if_unmarked=True)
    except DatabaseError:
        logger.exception("the issuing queue mark could not be read: sending a message anyway")
        return True


def issue_queue_mark() -> None:
    """An issuing task is being queued for the completions still unclaimed (after a full batch)."""
    if connection.vendor == "postgresql" and certificates_setting("ISSUE_QUEUE_SECONDS"):
        _issue_queue_upsert(only_if_unmarked=False)


def issue_queue_clear() -> None:
    """An issuing task starts (or could not be queued): completions from now on need a message."""
    if connection.vendor == "postgresql":
        IssueQueue.objects.filter(pk=1, queued_at__isnull=False).update(queued_at=None)


def _delivery_finished(*, enrollment_id: int) -> bool:
    """A delivery with nothing left to do, counted and finished in one statement (what
    ``issue_delivery_start`` then ``issue_delivery_finish`` do); False when the job was set aside."""
    return _delivery_count(enrollment_id=enrollment_id, finished=True)[1] is None


def _delivery_count(*, enrollment_id: int, finished: bool) -> tuple[int, datetime.datetime | None]:
    """Count one delivery on the enrolment's job, as unfinished (``attempts`` + 1) or ``finished``
    (0, unless the job was set aside); its attempts and when it was set aside."""
    table = connection.ops.quote_name(IssueJob._meta.db_table)
    attempts = (
        f"CASE WHEN {table}.failed_at IS NULL THEN 0 ELSE {table}.attempts + 1 END"
        if finished
        else (f"{table}.attempts + 1")
    )
    sql = (
        f"INSERT INTO {table} (enrollment_id, deliveries, attempts, last_started_at, last_error) "  # noqa: S608
        "VALUES (%s, 1, %s, %s, '') "
        f"ON CONFLICT (enrollment_id) DO UPDATE SET deliveries = {table}.deliveries + 1, "
        f"attempts = {attempts}, last_started_at = excluded.last_started_at RETURNING attempts, failed_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [enrollment_id, 0 if finished else 1, timezone.now()])
        return cursor.fetchone()


def _batch_orphans_issue(*, claim: str, exclude: int) -> None:
    """One at a time, the enrolments an earlier run of delivery ``claim`` claimed and did not finish
    (its worker was killed, or rendering failed), unless another delivery holds them now."""
    orphans = IssueJob.objects.filter(claimed_by=claim, attempts__gt=0, failed_at__isnull=True).exclude(
        enrollment_id=exclude
    )
    for enrollment_id in orphans.order_by("enrollment_id").values_list("enrollment_id", flat=True):
        if _issue_lock_try(enrollment_id):
            try:
                issue_delivery(enrollment_id=enrollment_id)
            finally:
                _issue_unlock([enrollment_id])


@transaction.atomic
def issue_jobs_retry(*, enrollment_ids: list[int]) -> int:
    """An operator's decision to try again jobs that were set aside: reset them and enqueue them
    after commit. Returns how many were set aside. Idempotent (others are left alone)."""
    ids = list(
        IssueJob.objects.select_for_update()
        .filter(enrollment_id__in=enrollment_ids, failed_at__isnull=False)
        .values_list("enrollment_id", flat=True)
    )
    IssueJob.objects.filter(enrollment_id__in=ids).update(attempts=0, failed_at=None, last_error="")
    from .tasks import certificate_issue_task

    for enrollment_id in ids:
        transaction.on_commit(lambda pk=enrollment_id: certificate_issue_task.delay(pk), robust=True)
    return len(ids)


def certificates_sweep(*, limit: int | None = None) -> list[int]:
    """Completed enrolments still without any certificate, or whose certificate has no PDF yet
    (their message was lost, or a worker died half-way), oldest first, for the caller to enqueue.

    Side effect: records when each was picked, so while a message may still be waiting in the
    queue (a worker outage) the next sweeps do not pile up copies of it. Enrolments whose issuing
    was set aside (poison) are left to an operator; revoked ones are not re-issued automatically.
    """
    now = timezone.now()
    grace = now - datetime.timedelta(seconds=certificates_setting("SWEEP_GRACE_SECONDS"))
    recently = now - datetime.timedelta(seconds=certificates_setting("SWEEP_REENQUEUE_SECONDS"))
    pending = list(
        Enrollment.objects.filter(completed_at__isnull=False, completed_at__lte=grace)
        .filter(
            ~Exists(Certificate.objects.filter(enrollment=OuterRef("pk")))
            | Exists(Certificate.objects.filter(enrollment=OuterRef("pk"), status=CertificateStatus.VALID, sha256=""))
        )
        .filter(
            ~Exists(
                IssueJob.objects.filter(enrollment=OuterRef("pk")).filter(
                    Q(failed_at__isnull=False) | Q(last_swept_at__gt=recently)
                )
            )
        )
        .order_by("completed_at")
        .values_list("pk", flat=True)[: limit or certificates_setting("SWEEP_BATCH")]
    )
    IssueJob.objects.bulk_create(
        [IssueJob(enrollment_id=pk, last_swept_at=now) for pk in pending],
        update_conflicts=True,
        unique_fields=["enrollment"],
        update_fields=["last_swept_at"],
    )
    return pending


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, reason: str, by=None) -> Certificate:
    """Revoke a certificate issued in error. Verification then reports it revoked with the reason
    (its cached answer is dropped now and on commit), and after commit the revocation status list is
    republished with its credential's bit set.

    Raises ReasonRequired or AlreadyRevoked; a conditional update makes two racing revocations safe.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    updated = Certificate.objects.filter(pk=certificate.pk, status=CertificateStatus.VALID).update(
        status=CertificateStatus.REVOKED, revoked_at=timezone.now(), revoked_reason=reason[:2000], revoked_by=by
    )
    if not updated:
        raise AlreadyRevoked()
    # Verification says "revoked" from this commit on, never a cached "valid".
    verification_forget(certificate.code)
    certificate.refresh_from_db()
    from .tasks import status_list_publish_task

    # The credential's bit in the public status list is set once this commits (the periodic
    # publication catches up if the broker is down).
    transaction.on_commit(status_list_publish_task.delay, robust=True)
    return certificate


# How a correction names the corrected details in the old certificate's revocation reason.
_CORRECTED_FIELDS = {"full_name": "nama", "position": "jabatan", "unit": "unit kerja", "nip": "NIP"}


@transaction.atomic
def _certificate_replace(*, certificate: Certificate, by, reason: str) -> Certificate:
    """One transaction: revoke the valid ``certificate`` ("diganti oleh <new number>") and record its
    replacement with a new number, code and a fresh snapshot. Raises AlreadyRevoked, NotCompleted."""
    enrollment = enrollment_lock(certificate.enrollment_id, select_related=_SNAPSHOT_RELATED)
    if enrollment.completed_at is None:
        raise NotCompleted()
    # Revoked first: one valid certificate per enrolment, and a racing correction finds it revoked.
    if not Certificate.objects.filter(pk=certificate.pk, status=CertificateStatus.VALID).update(
        status=CertificateStatus.REVOKED, revoked_at=timezone.now(), revoked_by=by
    ):
        raise AlreadyRevoked()
    # Its cached verification is dropped as the replacement is recorded (_certificate_create).
    replacement = _certificate_create(enrollment=enrollment, replaces=certificate)
    text = f"diganti oleh {replacement.number}" + (f" ({reason})" if reason else "")
    Certificate.objects.filter(pk=certificate.pk).update(revoked_reason=text[:2000])
    from .tasks import status_list_publish_task

    # The old credential's bit in the public status list is set once this commits.
    transaction.on_commit(status_list_publish_task.delay, robust=True)
    return replacement


def certificate_reissue(*, certificate: Certificate, by=None, reason: str = "") -> Certificate:
    """Issue a new certificate (new number and code, a fresh snapshot of the participant, cohort and
    settings) in place of ``certificate``, and return it; it records the one it ``replaces``.

    A valid ``certificate`` is corrected: given a ``reason`` (e.g. "koreksi nama"), it is revoked
    with the reason "diganti oleh <new number> (<reason>)" in the same transaction, so verification
    of its code points to the replacement. A revoked one is re-issued after the revocation (an
    operator's decision). Then the new PDF is sealed and stored as at issue.
    Raises StillValid (a valid certificate without a reason, or a revoked one whose enrolment has
    a valid certificate again), AlreadyRevoked (a racing correction won), NotCompleted, SealUnavailable.
    """
    reason = (reason or "").strip()
    sealer = issuing_sealer()
    if certificate.status == CertificateStatus.VALID:
        if not reason:
            raise StillValid()
        issued = _certificate_replace(certificate=certificate, by=by, reason=reason)
        certificate.refresh_from_db()
        return _certificate_render(issued, sealer=sealer)
    if Certificate.objects.filter(enrollment_id=certificate.enrollment_id, status=CertificateStatus.VALID).exists():
        raise StillValid()  # re-issued already
    issued = certificate_issue(enrollment_id=certificate.enrollment_id, reissue=True)
    if issued is None or issued.pk == certificate.pk:  # pragma: no cover - guarded above
        raise StillValid()
    return issued


def certificate_correct(*, enrollment_id: int, by_id: int | None = None, changes: Any = None) -> Certificate | None:
    """After a participant's name, position or unit was corrected: re-issue the enrolment's valid
    certificate with the corrected details (``certificate_reissue``) and return the new one.

    Idempotent: nothing happens (None) when there is no valid certificate, or it already says what
    the profile now says (a repeated message, or a correction that changed nothing printed), or a
    concurrent correction re-issued it first."""
    from django.contrib.auth import get_user_model

    certificate = Certificate.objects.filter(enrollment_id=enrollment_id, status=CertificateStatus.VALID).first()
    if certificate is None:
        return None
    participant = Enrollment.objects.select_related("participant").get(pk=enrollment_id).participant
    now = (participant.full_name, participant.nip, participant.position, participant.unit)
    if (certificate.holder_name, certificate.holder_nip, certificate.holder_position, certificate.holder_unit) == now:
        return None
    fields = list(changes) if isinstance(changes, dict | list | tuple) else []
    named = [_CORRECTED_FIELDS.get(str(name), str(name)) for name in fields]
    reason = "koreksi data peserta" + (f": {', '.join(named)}" if named else "")
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    try:
        return certificate_reissue(certificate=certificate, by=by, reason=reason)
    except AlreadyRevoked:
        return None  # another delivery corrected it first


def archive_request(*, cohort, by) -> CertificateArchive:
    """Create a pending ZIP archive of the cohort's valid certificates (a task builds it)."""
    total = Certificate.objects.filter(enrollment__cohort=cohort, status=CertificateStatus.VALID).count()
    archive = CertificateArchive.objects.create(cohort=cohort, requested_by=by, total=total)
    from .tasks import certificate_archive_task

    transaction.on_commit(lambda: certificate_archive_task.delay(archive.pk))
    return archive


def archive_build(*, archive_id: int) -> CertificateArchive:
    """Build the ZIP, updating ``done`` as it goes so the page can show progress.

    Idempotent: a ready archive is returned as it is; a retried build starts the file again.
    """
    archive = CertificateArchive.objects.select_related("cohort").get(pk=archive_id)
    if archive.status == ArchiveStatus.READY:
        return archive
    certificates = list(
        Certificate.objects.filter(enrollment__cohort=archive.cohort, status=CertificateStatus.VALID)
        .exclude(sha256="")
        .order_by("number")
    )
    CertificateArchive.objects.filter(pk=archive.pk).update(
        status=ArchiveStatus.RUNNING, total=len(certificates), done=0, error=""
    )
    step = max(1, len(certificates) // 50)
    try:
        with SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
            with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as bundle:
                for index, certificate in enumerate(certificates, start=1):
                    with certificate.pdf.open("rb") as pdf:
                        bundle.writestr(certificate_filename(certificate, in_archive=True), pdf.read())
                    if index % step == 0 or index == len(certificates):
                        CertificateArchive.objects.filter(pk=archive.pk).update(done=index)
            spool.seek(0)
            if archive.file:
                archive.file.delete(save=False)
            archive.file.save(f"cohort-{archive.cohort_id}-{archive.pk}.zip", File(spool), save=False)
    except Exception as exc:
        CertificateArchive.objects.filter(pk=archive.pk).update(status=ArchiveStatus.FAILED, error=str(exc)[:2000])
        raise
    CertificateArchive.objects.filter(pk=archive.pk).update(
        status=ArchiveStatus.READY, file=archive.file.name, finished_at=timezone.now(), done=len(certificates)
    )
    archive.refresh_from_db()
    return archive
