"""Quiz content (Quiz → Question → Choice), attempts, answers and allowances; data and constraints only."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Enrollment, Lesson, Module


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TRUE_FALSE = "true_false", _("True / false")


class ReviewPolicy(models.TextChoices):
    """When the full review (answers, right or wrong, explanations) of a graded attempt may open.

    Never earlier than the platform's rule: not while attempts remain and the quiz is not passed.
    ``allow_review`` False closes it for good, so there is no "never" here to disagree with it.
    """

    AFTER_FINAL = "after_final", _("Once the quiz is passed or the last attempt is used")
    AFTER_PASS = "after_pass", _("Only once the quiz is passed")


class Quiz(models.Model):
    module = models.OneToOneField(Module, on_delete=models.CASCADE, related_name="quiz", verbose_name=_("module"))
    title = models.CharField(_("title"), max_length=200)
    pass_mark = models.PositiveSmallIntegerField(_("pass mark (%)"), default=70)
    max_attempts = models.PositiveSmallIntegerField(_("maximum attempts"), default=3)
    time_limit_minutes = models.PositiveSmallIntegerField(
        _("time limit (minutes)"), null=True, blank=True, help_text=_("Empty means no time limit.")
    )
    shuffle_questions = models.BooleanField(_("shuffle questions"), default=False)
    shuffle_choices = models.BooleanField(_("shuffle choices"), default=False)
    allow_review = models.BooleanField(
        _("allow review"),
        default=True,
        help_text=_("Whether correctness and explanations may be shown at all (when is set by the review setting)."),
    )
    review = models.CharField(
        _("full review"),
        max_length=12,
        choices=ReviewPolicy.choices,
        default=ReviewPolicy.AFTER_FINAL,
        help_text=_("Until then a failed attempt shows its score and the lessons to revisit."),
    )
    # A bank: each attempt draws this many questions (empty: all of them) in this mix of kinds.
    draw_count = models.PositiveSmallIntegerField(
        _("questions per attempt"), null=True, blank=True, help_text=_("Empty means every question.")
    )
    draw_mix = models.JSONField(
        _("mix of kinds per attempt"),
        default=dict,
        blank=True,
        help_text=_('Questions of each kind an attempt draws, e.g. {"single": 4, "multiple": 2, "true_false": 2}.'),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")
        constraints = [
            models.CheckConstraint(condition=Q(pass_mark__gte=0, pass_mark__lte=100), name="quiz_pass_mark_0_100"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="quiz_max_attempts_positive"),
            models.CheckConstraint(condition=Q(review__in=ReviewPolicy.values), name="quiz_review_valid"),
            models.CheckConstraint(
                condition=Q(draw_count__isnull=True) | Q(draw_count__gte=1), name="quiz_draw_count_positive"
            ),
            models.CheckConstraint(
                condition=Q(time_limit_minutes__isnull=True) | Q(time_limit_minutes__gte=1),
                name="quiz_time_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions", verbose_name=_("quiz"))
    key = models.SlugField(_("key"), max_length=64, help_text=_("Stable identifier used by the curriculum files."))
    order = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=12, choices=QuestionKind.choices, default=QuestionKind.SINGLE)
    text = models.TextField(_("question"))
    explanation = models.TextField(_("explanation"), help_text=_("Shown in the full review."))
    # What a participant who got this question wrong is pointed to while the answers stay closed.
    lesson = models.ForeignKey(
        Lesson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lesson"),
        help_text=_("The lesson of the same module to revisit when this question is answered wrong."),
    )

    class Meta:
        ordering = ["quiz", "order", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(fields=["quiz", "key"], name="question_unique_key_per_quiz"),
            models.CheckConstraint(condition=Q(kind__in=QuestionKind.values), name="question_kind_valid"),
            models.CheckConstraint(condition=Q(order__gte=1), name="question_order_positive"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question"))
    key = models.SlugField(_("key"), max_length=64)
    order = models.PositiveSmallIntegerField(_("order"))
    text = models.CharField(_("text"), max_length=500)
    is_correct = models.BooleanField(_("correct"), default=False)

    class Meta:
        ordering = ["question", "order", "id"]
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        constraints = [
            models.UniqueConstraint(fields=["question", "key"], name="choice_unique_key_per_question"),
            models.CheckConstraint(condition=Q(order__gte=1), name="choice_order_positive"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted")
    EXPIRED = "expired", _("Expired")


class Attempt(models.Model):
    """One try at a quiz by one enrolment; graded exactly once, when submitted or when its time ran out."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="quiz_attempts", verbose_name=_("enrolment")
    )
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("quiz"))
    number = models.PositiveSmallIntegerField(_("attempt number"))
    status = models.CharField(
        _("status"), max_length=12, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    graded_at = models.DateTimeField(_("graded at"), null=True, blank=True)
    score_percent = models.PositiveSmallIntegerField(_("score (%)"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), default=False)
    correct_count = models.PositiveSmallIntegerField(_("correct answers"), null=True, blank=True)
    question_count = models.PositiveSmallIntegerField(_("questions"), default=0)
    # Drawn once at start and never recomputed, so a reload shows the same order.
    question_order = models.JSONField(_("question order"), default=list)
    choice_order = models.JSONField(_("choice order"), default=dict, help_text=_("Choice ids per question id."))
    # Filled at grading: {question id: answered right}. Never sent before the attempt is graded.
    results = models.JSONField(_("results"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "quiz"],
                condition=Q(status="in_progress"),
                name="attempt_one_in_progress",
            ),
            # Two racing starts draw the same number: the database lets only one through.
            models.UniqueConstraint(fields=["enrollment", "quiz", "number"], name="attempt_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="attempt_number_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["in_progress", "submitted", "expired"]), name="attempt_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(score_percent__isnull=True) | Q(score_percent__gte=0, score_percent__lte=100),
                name="attempt_score_0_100",
            ),
            # Open attempts carry no grade; closed ones always do.
            models.CheckConstraint(
                condition=(Q(status="in_progress") & Q(graded_at__isnull=True) & Q(score_percent__isnull=True))
                | (~Q(status="in_progress") & Q(graded_at__isnull=False) & Q(score_percent__isnull=False)),
                name="attempt_graded_iff_closed",
            ),
            models.CheckConstraint(
                condition=(Q(status="submitted") & Q(submitted_at__isnull=False))
                | (~Q(status="submitted") & Q(submitted_at__isnull=True)),
                name="attempt_submitted_at_iff_submitted",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("started_at")),
                name="attempt_expires_after_start",
            ),
        ]
        indexes = [
            # The expiry sweep reads only open attempts with a deadline.
            models.Index(fields=["expires_at"], condition=Q(status="in_progress"), name="attempt_open_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quiz} #{self.number} ({self.enrollment_id})"


class Answer(models.Model):
    """The choices saved for one question of an attempt; replaced as the participant changes their mind."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers", verbose_name=_("attempt"))
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+", verbose_name=_("question"))
    # Ids of the chosen choices; checked against the attempt's own choice lists before saving.
    choice_ids = models.JSONField(_("chosen choices"), default=list)
    saved_at = models.DateTimeField(_("saved at"), default=timezone.now)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="answer_once_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}: {self.question_id}"


class AttemptAllowance(models.Model):
    """Extra attempts an operator granted one enrolment at one quiz, on top of ``Quiz.max_attempts``."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="quiz_allowances", verbose_name=_("enrolment")
    )
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="allowances", verbose_name=_("quiz"))
    extra = models.PositiveSmallIntegerField(_("extra attempts"), default=1)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("attempt allowance")
        verbose_name_plural = _("attempt allowances")
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "quiz"], name="attempt_allowance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment} — {self.quiz}: +{self.extra}"
