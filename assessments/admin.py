"""Django admin for quiz content, attempts (read-only) and extra-attempt allowances."""

from django import forms
from django.contrib import admin
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

from courses.admin import ReadOnlyAdmin

from .models import Answer, Attempt, AttemptAllowance, Choice, Question, Quiz
from .services import allowance_grant


class QuestionInline(admin.StackedInline):
    model = Question
    fields = ("order", "key", "kind", "text", "explanation", "lesson")
    ordering = ("order",)
    extra = 0
    show_change_link = True


class ChoiceInline(admin.TabularInline):
    model = Choice
    fields = ("order", "key", "text", "is_correct")
    ordering = ("order",)
    extra = 0


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ("title", "module", "pass_mark", "max_attempts", "time_limit_minutes")
    list_filter = ("module__course",)
    search_fields = ("title",)
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "quiz", "order", "kind")
    list_filter = ("quiz", "kind")
    ordering = ("quiz", "order")
    search_fields = ("text",)
    inlines = [ChoiceInline]


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = ("question", "choice_ids", "saved_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    """Read-only: attempts are written only by the services (start, save, submit, expiry)."""

    list_display = ("pk", "participant", "quiz", "number", "status", "score_percent", "passed", "started_at")
    list_filter = ("status", "quiz", "passed")
    search_fields = ("enrollment__participant__full_name", "enrollment__participant__nip")
    list_select_related = ("enrollment__participant", "quiz")
    date_hierarchy = "started_at"
    inlines = [AnswerInline]
    readonly_fields = [
        "enrollment",
        "quiz",
        "number",
        "status",
        "started_at",
        "expires_at",
        "submitted_at",
        "graded_at",
        "score_percent",
        "passed",
        "correct_count",
        "question_count",
        "question_order",
        "choice_order",
        "results",
    ]
    fields = readonly_fields

    @admin.display(description=_("participant"), ordering="enrollment__participant__full_name")
    def participant(self, obj: Attempt) -> str:
        return str(obj.enrollment.participant)


class AllowanceGrantForm(forms.ModelForm):
    """The add page is a grant: its ``extra`` is added to what the enrolment already has at the quiz."""

    class Meta:
        model = AttemptAllowance
        fields = ("enrollment", "quiz", "extra", "reason")
        help_texts = {"extra": _("Added to any extra attempts already granted at this quiz.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        extra = self.fields.get("extra")  # absent on the read-only view of an existing allowance
        if extra is not None:
            # allowance_grant refuses a grant of nothing; say so in the form rather than fail on save.
            extra.validators.append(MinValueValidator(1))
            extra.widget.attrs["min"] = 1

    def clean(self) -> dict:
        cleaned = super().clean()
        existing = AttemptAllowance.objects.filter(
            enrollment=cleaned.get("enrollment"), quiz=cleaned.get("quiz")
        ).first()
        if existing is not None:
            # A second grant adds to the existing allowance; validating against that row keeps the
            # one-allowance-per-enrolment-and-quiz constraint from refusing it as a duplicate.
            self.instance = existing
        return cleaned


@admin.register(AttemptAllowance)
class AttemptAllowanceAdmin(admin.ModelAdmin):
    """Allowances are granted on the add page through ``allowance_grant``; existing ones are read-only."""

    form = AllowanceGrantForm
    list_display = ("enrollment", "quiz", "extra", "reason", "granted_by", "updated_at")
    list_filter = ("quiz",)
    search_fields = ("enrollment__participant__full_name", "enrollment__participant__nip")
    list_select_related = ("enrollment__participant", "enrollment__cohort", "quiz", "granted_by")
    raw_id_fields = ("enrollment",)
    fields = ("enrollment", "quiz", "extra", "reason")

    def has_change_permission(self, request, obj=None) -> bool:
        # Every write goes through the service, which only adds: more attempts are another grant.
        return False

    def save_model(self, request, obj: AttemptAllowance, form, change) -> None:
        allowance = allowance_grant(
            enrollment=obj.enrollment, quiz=obj.quiz, extra=obj.extra, granted_by=request.user, reason=obj.reason
        )
        # The admin logs and redirects with ``obj``: make it the row the service wrote.
        obj.pk = allowance.pk
        obj.refresh_from_db()
