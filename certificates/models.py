"""Per-course certificate settings, certificates, gap-free number counters, issuing jobs, ZIPs; data only."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from courses.models import Cohort, Course, Enrollment

from .conf import certificates_setting


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    REVOKED = "revoked", _("Revoked")


# Defaults of a new course's certificate settings: the host's CERTIFICATES_* settings (module-level
# functions, so migrations can name them).
def default_title() -> str:
    return certificates_setting("TITLE")


def default_issuer_name() -> str:
    return certificates_setting("ISSUER")


def default_issue_place() -> str:
    return certificates_setting("PLACE")


def default_signatory_name() -> str:
    return certificates_setting("SIGNATORY_NAME")


def default_signatory_position() -> str:
    return certificates_setting("SIGNATORY_POSITION")


def default_signatory_nip() -> str:
    return certificates_setting("SIGNATORY_NIP")


def default_signatory_rank() -> str:
    return certificates_setting("SIGNATORY_RANK")


class CertificateSettings(models.Model):
    """What this app needs to know of a course to certify it; loaded from the course's ``course.yaml``
    (``certificate_prefix``, ``jp`` and the optional ``certificate:`` block) and editable in the admin.

    The home of the official certificate's settings: issuer, title, place, signing official, hours of
    study. Read at issue and copied into the certificate: changing them never alters an issued one."""

    course = models.OneToOneField(
        Course, on_delete=models.CASCADE, related_name="certificate_settings", verbose_name=_("course")
    )
    number_prefix = models.CharField(
        _("certificate number prefix"),
        max_length=32,
        help_text=_("Start of every certificate number, e.g. GCIO-KALTIM."),
    )
    title = models.CharField(
        _("certificate title"),
        max_length=100,
        default=default_title,
        help_text=_("E.g. SERTIFIKAT or SURAT KETERANGAN PELATIHAN."),
    )
    issuer_name = models.CharField(
        _("issuing body"),
        max_length=200,
        default=default_issuer_name,
        help_text=_("E.g. Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur."),
    )
    issuer_logo = models.ImageField(
        _("issuing body's logo"),
        upload_to="certificate-logos/",
        max_length=255,
        blank=True,
        help_text=_("PNG or JPEG. Empty: a neutral text mark with the issuing body's initials."),
    )
    issue_place = models.CharField(
        _("place of issue"), max_length=100, default=default_issue_place, help_text=_("E.g. Samarinda.")
    )
    jp = models.PositiveSmallIntegerField(
        _("hours of study (JP)"),
        null=True,
        blank=True,
        help_text=_("Jam pelajaran: 1 JP = 45 minutes of learning. Empty: not printed."),
    )
    signatory_name = models.CharField(_("signing official: name"), max_length=150, default=default_signatory_name)
    signatory_position = models.CharField(
        _("signing official: position"),
        max_length=250,
        default=default_signatory_position,
        help_text=_("E.g. Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur."),
    )
    signatory_nip = models.CharField(
        _("signing official: NIP"), max_length=32, blank=True, default=default_signatory_nip
    )
    signatory_rank = models.CharField(
        _("signing official: rank"),
        max_length=100,
        blank=True,
        default=default_signatory_rank,
        help_text=_("Pangkat/golongan, e.g. Pembina Utama Muda (IV/c)."),
    )

    class Meta:
        verbose_name = _("certificate settings")
        verbose_name_plural = _("certificate settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(number_prefix__regex=r"^[A-Z0-9][A-Z0-9-]*$"), name="certificate_settings_prefix_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course}: {self.number_prefix}"


class CohortSignatory(models.Model):
    """A cohort's own signing official, in place of its course's (the head of office changed)."""

    cohort = models.OneToOneField(
        Cohort, on_delete=models.CASCADE, related_name="certificate_signatory", verbose_name=_("cohort")
    )
    signatory_name = models.CharField(_("signing official: name"), max_length=150)
    signatory_position = models.CharField(_("signing official: position"), max_length=250)
    signatory_nip = models.CharField(_("signing official: NIP"), max_length=32, blank=True)
    signatory_rank = models.CharField(_("signing official: rank"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("cohort's signing official")
        verbose_name_plural = _("cohorts' signing officials")

    def __str__(self) -> str:
        return f"{self.cohort}: {self.signatory_name}"


class NumberCounter(models.Model):
    """Last number issued per certificate prefix and year; its row lock (taken by the incrementing UPDATE)
    is held until the issuing transaction commits, so numbers stay gap-free."""

    prefix = models.CharField(_("prefix"), max_length=32)
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number counter")
        verbose_name_plural = _("number counters")
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="number_counter_unique_prefix_year")]

    def __str__(self) -> str:
        return f"{self.prefix}/{self.year}: {self.last}"


class Certificate(models.Model):
    """An issued certificate. What it says is copied at issue time: it never changes afterwards."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("enrolment")
    )
    number = models.CharField(_("number"), max_length=64, unique=True)
    code = models.CharField(_("verification code"), max_length=12, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CertificateStatus.choices, default=CertificateStatus.VALID
    )
    holder_name = models.CharField(_("holder name"), max_length=150)
    holder_nip = models.CharField(_("holder NIP"), max_length=18)
    holder_position = models.CharField(_("holder position"), max_length=200, blank=True)
    holder_unit = models.CharField(_("holder unit"), max_length=200, blank=True)
    course_title = models.CharField(_("course"), max_length=200)
    cohort_name = models.CharField(_("cohort"), max_length=150)
    period_starts_on = models.DateField(_("period starts on"), null=True, blank=True)
    period_ends_on = models.DateField(_("period ends on"), null=True, blank=True)
    jp = models.PositiveSmallIntegerField(_("hours of study (JP)"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=100, blank=True)
    issuer_name = models.CharField(_("issuing body"), max_length=200, blank=True)
    issue_place = models.CharField(_("place of issue"), max_length=100, blank=True)
    signatory_name = models.CharField(_("signing official: name"), max_length=150, blank=True)
    signatory_position = models.CharField(_("signing official: position"), max_length=250, blank=True)
    signatory_nip = models.CharField(_("signing official: NIP"), max_length=32, blank=True)
    signatory_rank = models.CharField(_("signing official: rank"), max_length=100, blank=True)
    # The seal certificate's subject (RFC 4514), recorded when the sealed PDF is stored.
    seal_signer = models.CharField(_("sealed by"), max_length=500, blank=True)
    # The certificate this one corrects (re-issued with a new number and code); it is revoked.
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("replaces"),
    )
    issued_at = models.DateTimeField(_("issued at"))
    # Empty for the moment between recording the certificate and storing its PDF.
    pdf = models.FileField(_("PDF"), upload_to="certificates/", max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.TextField(_("revocation reason"), blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            # One valid certificate per enrolment; a revoked one may be followed by a re-issue.
            models.UniqueConstraint(
                fields=["enrollment"], condition=Q(status="valid"), name="certificate_one_valid_per_enrollment"
            ),
            models.CheckConstraint(condition=Q(status__in=["valid", "revoked"]), name="certificate_status_valid"),
            models.CheckConstraint(
                condition=Q(status="valid", revoked_at__isnull=True) | Q(status="revoked", revoked_at__isnull=False),
                name="certificate_revoked_has_time",
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9A-HJKMNP-TV-Z]{12}$"), name="certificate_code_format"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class IssueJob(models.Model):
    """Deliveries of the issuing task per enrolment, so a message that kills its worker cannot loop forever."""

    enrollment = models.OneToOneField(
        Enrollment, on_delete=models.CASCADE, related_name="certificate_job", verbose_name=_("enrolment")
    )
    deliveries = models.PositiveIntegerField(_("deliveries"), default=0)
    # Deliveries in a row that did not finish (killed worker, error); a finished one resets it.
    attempts = models.PositiveIntegerField(_("unfinished deliveries in a row"), default=0)
    last_started_at = models.DateTimeField(_("last started at"), null=True, blank=True)
    last_swept_at = models.DateTimeField(_("last re-enqueued by the sweep"), null=True, blank=True)
    failed_at = models.DateTimeField(
        _("given up at"),
        null=True,
        blank=True,
        help_text=_("Set after too many unfinished deliveries; use the “Retry issuing” action to try again."),
    )
    last_error = models.TextField(_("last error"), blank=True)
    # The delivery (Celery task id) whose batch last claimed it; while that batch runs it also holds
    # the enrolment's advisory lock, so other deliveries leave the enrolment to it.
    claimed_by = models.CharField(_("claimed by delivery"), max_length=64, blank=True, db_default="")

    class Meta:
        verbose_name = _("issuing job")
        verbose_name_plural = _("issuing jobs")

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {self.deliveries}"


class IssueQueue(models.Model):
    """One row: when an issuing task was last queued to claim the completions not yet claimed.

    While that task waits in the queue, further completions need no message of their own: when it
    starts it takes this mark off, then claims every completion committed before (in batches of
    ``CERTIFICATES_ISSUE_BATCH``, queueing the next batch's task when one was full). A mark older
    than ``CERTIFICATES_ISSUE_QUEUE_SECONDS`` no longer holds completions back (its message may have
    been lost); the periodic sweep stays the safety net for a lost one."""

    queued_at = models.DateTimeField(_("issuing task queued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("issuing queue")
        verbose_name_plural = _("issuing queue")

    def __str__(self) -> str:
        return f"queued at {self.queued_at}" if self.queued_at else "no issuing task queued"


class ArchiveStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Building")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class CertificateArchive(models.Model):
    """A ZIP of a cohort's certificates, built by a Celery task with visible progress."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="certificate_archives")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=10, choices=ArchiveStatus.choices, default=ArchiveStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="certificate-archives/", blank=True, max_length=255)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("certificate archive")
        verbose_name_plural = _("certificate archives")
        constraints = [models.CheckConstraint(condition=Q(done__lte=models.F("total")), name="archive_done_le_total")]

    def __str__(self) -> str:
        return f"{self.cohort} ({self.status})"


class Credential(models.Model):
    """A certificate's Open Badges 3.0 credential, signed at issue in the certificate's own transaction
    and never changed afterwards (like the PDF). The NIP is not stored here: the credential holds only
    its salted hash, and ``salt`` is that credential's own."""

    certificate = models.OneToOneField(
        Certificate, on_delete=models.PROTECT, related_name="credential", verbose_name=_("certificate")
    )
    token = models.TextField(_("signed credential (VC-JWT)"))
    status_index = models.PositiveIntegerField(_("status list index"), unique=True)
    salt = models.CharField(_("identity hash salt"), max_length=64)
    key_id = models.CharField(_("signing key"), max_length=255)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")

    def __str__(self) -> str:
        return f"{self.certificate_id}: {self.status_index}"


class StatusListCounter(models.Model):
    """The last status-list index given to a credential, per list. Incremented by one UPDATE … RETURNING
    in the issuing transaction, whose row lock is held until commit: indices are gap-free (a rollback
    gives its index back) and never reused (a credential row is never deleted)."""

    name = models.CharField(_("list"), max_length=32, unique=True)
    last = models.IntegerField(_("last index"), default=-1)

    class Meta:
        verbose_name = _("status list counter")
        verbose_name_plural = _("status list counters")

    def __str__(self) -> str:
        return f"{self.name}: {self.last}"


class StatusList(models.Model):
    """The published revocation list: the signed ``BitstringStatusListCredential`` served publicly,
    regenerated after each revocation (and by the periodic safety net) when its bits change."""

    name = models.CharField(_("list"), max_length=32, unique=True)
    encoded_list = models.TextField(_("encoded list"))
    token = models.TextField(_("signed status list (VC-JWT)"))
    key_id = models.CharField(_("signing key"), max_length=255)
    revoked = models.PositiveIntegerField(_("revoked entries"), default=0)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")

    def __str__(self) -> str:
        return f"{self.name} ({self.revoked})"
