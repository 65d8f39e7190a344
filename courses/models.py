"""Catalogue (Course → Module → Lesson) and participant profiles; data and constraints only."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .validators import email_key, validate_nip, visible_text_validate


class Stage(models.TextChoices):
    TRANSFORMATION = "transformation", _("Digital transformation")
    LEADERSHIP = "leadership", _("Digital leadership")
    IMPLEMENTATION = "implementation", _("Implementation")
    ATTENTION = "attention", _("Attention points")


class Course(models.Model):
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    published = models.BooleanField(_("published"), default=False)
    audience = models.TextField(_("audience"), blank=True)
    # Jam pelajaran (1 JP = 45 minutes) and how the files derive it (total_minutes and its parts).
    jp = models.PositiveSmallIntegerField(_("JP (lesson hours)"), null=True, blank=True)
    jp_basis = models.JSONField(_("JP basis"), default=dict, blank=True)
    action_plan_required = models.BooleanField(
        _("action plan required"),
        default=False,
        help_text=_("The course counts as completed only once the participant has submitted an action plan."),
    )
    action_plan_title = models.CharField(_("action plan title"), max_length=200, blank=True)
    action_plan_instructions = models.TextField(_("action plan instructions (Markdown)"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self) -> str:
        return self.title


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules", verbose_name=_("course"))
    key = models.SlugField(_("key"), max_length=64, help_text=_("Stable identifier used by the curriculum files."))
    order = models.PositiveSmallIntegerField(_("order"))
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    # Each completes "Setelah mempelajari modul ini, peserta mampu …".
    objectives = models.JSONField(_("learning objectives"), default=list, blank=True)
    recap = models.TextField(_("recap (Markdown)"), blank=True)
    # [{"author", "year", "title", "source", "note"}], as the files give them.
    references = models.JSONField(_("references"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["course", "order", "id"]
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        constraints = [
            models.UniqueConstraint(fields=["course", "key"], name="module_unique_key_per_course"),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="module_stage_valid"),
            models.CheckConstraint(condition=Q(order__gte=1), name="module_order_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Lesson(models.Model):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("module"))
    key = models.SlugField(_("key"), max_length=64, help_text=_("Stable identifier used by the curriculum files."))
    order = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body (Markdown)"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["module", "order", "id"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        constraints = [
            models.UniqueConstraint(fields=["module", "key"], name="lesson_unique_key_per_module"),
            models.CheckConstraint(condition=Q(order__gte=1), name="lesson_order_positive"),
        ]

    def __str__(self) -> str:
        return self.title


class ParticipantProfile(models.Model):
    """One per participant user; the NIP identifies an ASN across cohorts."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="participant_profile",
        verbose_name=_("user"),
    )
    nip = models.CharField(_("NIP"), max_length=18, unique=True, validators=[validate_nip])
    # What a certificate or report prints: no characters that reorder or pad it unseen.
    full_name = models.CharField(_("full name"), max_length=150, validators=[visible_text_validate])
    unit = models.CharField(_("unit (OPD)"), max_length=200, blank=True, validators=[visible_text_validate])
    position = models.CharField(_("position"), max_length=200, blank=True, validators=[visible_text_validate])
    invited_at = models.DateTimeField(_("invitation sent at"), null=True, blank=True)
    # When the participant first set a password (through the invitation or a reset): "accepted".
    accepted_at = models.DateTimeField(_("invitation accepted at"), null=True, blank=True)
    # The language last chosen in the top bar ("" until then): it follows the participant to another device.
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    # The user's email in its normal form (validators.email_key), unique: the import finds the owner of
    # an address by this index, whatever the size of the user table (which has no index on email).
    # Kept in step by save(), by the user model's post_save (services.enrollment.email_key_sync) and by the import;
    # "" for no address.
    email_key = models.CharField(_("email (normalised)"), max_length=320, blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("participant profile")
        verbose_name_plural = _("participant profiles")
        constraints = [
            models.CheckConstraint(condition=Q(nip__regex=r"^[0-9]{18}$"), name="participant_nip_18_digits"),
            models.CheckConstraint(condition=~Q(full_name=""), name="participant_full_name_not_empty"),
            models.UniqueConstraint(
                fields=["email_key"], condition=~Q(email_key=""), name="participant_unique_email_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.nip})"

    def save(self, *args, **kwargs) -> None:
        # A whole save takes the key from the user's email (a profile saved with update_fields keeps it,
        # and one whose user is not loaded keeps it too rather than cost a query, unless it is new).
        update_fields = kwargs.get("update_fields")
        if update_fields is None and (self._state.adding or ParticipantProfile.user.is_cached(self)):
            self.email_key = email_key(self.user.email)
        super().save(*args, **kwargs)


class Cohort(models.Model):
    """A group of participants taking a course together, run by operators."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="cohorts", verbose_name=_("course"))
    name = models.CharField(_("name"), max_length=150, validators=[visible_text_validate])
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    # Whom a participant who is stuck (e.g. out of quiz attempts) contacts; the email is also told.
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True, validators=[visible_text_validate])
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True, validators=[visible_text_validate])
    # The scheduled reminder to participants behind pace (an operator may switch it off per cohort).
    reminders_enabled = models.BooleanField(_("scheduled reminders"), default=True)
    reminded_at = models.DateTimeField(_("last scheduled reminder"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")
        constraints = [
            models.CheckConstraint(condition=Q(starts_on__lte=models.F("ends_on")), name="cohort_starts_before_ends"),
            models.UniqueConstraint(fields=["course", "name"], name="cohort_unique_name_per_course"),
        ]

    def __str__(self) -> str:
        return self.name


class Enrollment(models.Model):
    """A participant's place in a cohort; one per participant and cohort."""

    participant = models.ForeignKey(
        ParticipantProfile, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("participant")
    )
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("cohort"))
    enrolled_at = models.DateTimeField(_("enrolled at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # Removed from the cohort by an operator: kept for the record, left out of lists and progress.
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    class Meta:
        ordering = ["cohort", "participant__full_name"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(fields=["participant", "cohort"], name="enrollment_unique_participant_cohort"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} — {self.cohort}"


class ModuleState(models.TextChoices):
    LOCKED = "locked", _("Locked")
    AVAILABLE = "available", _("Available")
    COMPLETED = "completed", _("Completed")


class LessonCompletion(models.Model):
    """A participant finished reading a lesson (a recorded fact; never recomputed)."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="lesson_completions", verbose_name=_("enrolment")
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="completions", verbose_name=_("lesson"))
    completed_at = models.DateTimeField(_("completed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lesson completion")
        verbose_name_plural = _("lesson completions")
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "lesson"], name="lesson_completion_once"),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {self.lesson_id}"


class ModuleProgress(models.Model):
    """Per enrolment and module: best quiz score, when the quiz was passed, when the module completed."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="module_progress", verbose_name=_("enrolment")
    )
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="progress", verbose_name=_("module"))
    best_score = models.PositiveSmallIntegerField(_("best quiz score (%)"), null=True, blank=True)
    quiz_passed_at = models.DateTimeField(_("quiz passed at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # The participant cannot go on alone (all quiz attempts used without a pass) since then; cleared
    # when an operator gives another chance. ``help_notified_at``: when the operator was emailed.
    help_needed_at = models.DateTimeField(_("needs help since"), null=True, blank=True)
    help_notified_at = models.DateTimeField(_("operator notified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("module progress")
        verbose_name_plural = _("module progress")
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "module"], name="module_progress_once"),
            models.CheckConstraint(
                condition=Q(best_score__isnull=True) | Q(best_score__gte=0, best_score__lte=100),
                name="module_progress_score_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {self.module_id}"


class ActionPlan(models.Model):
    """A participant's written action plan (rencana aksi) for one enrolment: the change they will lead."""

    enrollment = models.OneToOneField(
        Enrollment, on_delete=models.CASCADE, related_name="action_plan", verbose_name=_("enrolment")
    )
    change = models.TextField(_("the change to lead"))
    lead = models.TextField(_("who leads it, with whom"))
    due_on = models.DateField(_("due on"))
    indicator = models.TextField(_("success indicator"))
    submitted_at = models.DateTimeField(_("submitted at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["enrollment"]
        verbose_name = _("action plan")
        verbose_name_plural = _("action plans")

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {self.due_on}"


class AuditAction(models.TextChoices):
    IMPORT = "import", _("Imported")
    GRANT = "grant", _("Extra attempts granted")
    CORRECTION = "correction", _("Details corrected")
    REMOVAL = "removal", _("Removed from the cohort")
    REMINDER = "reminder", _("Reminder sent")
    RESEND = "resend", _("Invitation resent")
    REVOKE = "revoke", _("Certificate revoked")
    REISSUE = "reissue", _("Certificate re-issued")
    SCHEDULE = "schedule", _("Scheduled reminders switched")


class AuditEntry(models.Model):
    """One operator action on a participant's record or a cohort: who, when, what. Written once
    (``audit_record``), never changed or deleted by the application."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # Kept as text too, so the entry still says who after the account is gone.
    actor_name = models.CharField(_("by (name)"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("enrolment"),
    )
    cohort = models.ForeignKey(
        Cohort, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries", verbose_name=_("cohort")
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["cohort", "-created_at"], name="audit_cohort_idx"),
            models.Index(fields=["enrollment", "-created_at"], name="audit_enrollment_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} ({self.actor_name})"


class MessageKind(models.TextChoices):
    INVITATION = "invitation", _("Invitation")
    REMINDER = "reminder", _("Reminder")


class ParticipantMessage(models.Model):
    """An invitation resent or a reminder sent to an enrolment; at most one of each kind a day
    (the unique row is the claim, whoever asks), ``sent_at`` set once the email went out."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="messages", verbose_name=_("enrolment")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=MessageKind.choices)
    day = models.DateField(_("day"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("message to a participant")
        verbose_name_plural = _("messages to participants")
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "kind", "day"], name="participant_message_once_a_day"),
            models.CheckConstraint(condition=Q(kind__in=MessageKind.values), name="participant_message_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {self.kind} {self.day}"
