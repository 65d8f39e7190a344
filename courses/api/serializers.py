"""Serializers of the courses API (contract shapes in API.md)."""

from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from courses.extensions import progress_columns
from courses.models import Course
from courses.services import ACTION_PLAN_TEXT_MAX, ACTION_PLAN_TEXT_MIN


class NullSafeSlugRelatedField(serializers.SlugRelatedField):
    """DRF's SlugRelatedField, refusing a NUL before its lookup (which PostgreSQL fails with DataError).

    CharField refuses NUL with ProhibitNullCharactersValidator; a related field has no such validator,
    and field validators run only after the lookup, so the check comes first here."""

    def to_internal_value(self, data):
        ProhibitNullCharactersValidator()(str(data))
        return super().to_internal_value(data)


class CourseListSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    description = serializers.CharField()
    modules_count = serializers.IntegerField()


class LessonOutlineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    order = serializers.IntegerField()
    title = serializers.CharField()


class QuizSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    pass_mark = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    time_limit_minutes = serializers.IntegerField(allow_null=True)


class ModuleOutlineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="module.pk")
    order = serializers.IntegerField(source="module.order")
    stage = serializers.CharField(source="module.stage")
    title = serializers.CharField(source="module.title")
    summary = serializers.CharField(source="module.summary")
    objectives = serializers.ListField(
        child=serializers.CharField(),
        source="module.objectives",
        help_text=_("Each completes “Setelah mempelajari modul ini, peserta mampu …”."),
    )
    lessons = LessonOutlineSerializer(many=True)
    quiz = QuizSummarySerializer(source="extras.quiz", allow_null=True)


class CourseDetailSerializer(serializers.Serializer):
    slug = serializers.SlugField(source="course.slug")
    title = serializers.CharField(source="course.title")
    description = serializers.CharField(source="course.description")
    audience = serializers.CharField(source="course.audience")
    jp = serializers.IntegerField(source="course.jp", allow_null=True, help_text=_("Lesson hours (1 JP = 45 minutes)."))
    action_plan_required = serializers.BooleanField(source="course.action_plan_required")
    modules = ModuleOutlineSerializer(many=True)


class CohortSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=150)
    course = NullSafeSlugRelatedField(slug_field="slug", queryset=Course.objects.all())
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    participants_count = serializers.IntegerField(read_only=True, default=0)

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("This field may not be blank."))
        return value.strip()


class EnrollmentImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("CSV (comma or semicolon, UTF-8) or XLSX enrolment file."))


class FileErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class EnrollmentImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    total = serializers.IntegerField()
    enrolled = serializers.IntegerField(help_text=_("Participants newly enrolled in this cohort."))
    dry_run = serializers.BooleanField()
    hidden_rows = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text=_("Present when there are any: lines imported although the workbook hides them."),
    )
    warnings = serializers.ListField(
        child=FileErrorSerializer(),
        required=False,
        help_text=_("Present when there are any: what to check although it did not stop the import."),
    )


class EnrollmentImportErrorSerializer(serializers.Serializer):
    errors = FileErrorSerializer(many=True)


class IdNameSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SlugTitleSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()


class ModuleStateSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="module.pk")
    state = serializers.ChoiceField(choices=["locked", "available", "completed"])
    best_score = serializers.IntegerField(allow_null=True)
    lessons_done = serializers.IntegerField()
    lessons_total = serializers.IntegerField()
    quiz_passed = serializers.BooleanField()


class ActionPlanStatusSerializer(serializers.Serializer):
    required = serializers.BooleanField(help_text=_("Whether the course counts as completed only with a plan."))
    submitted_at = serializers.DateTimeField(allow_null=True)


class EnrollmentProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="enrollment.pk")
    cohort = IdNameSerializer(source="enrollment.cohort")
    course = SlugTitleSerializer(source="enrollment.cohort.course")
    progress_percent = serializers.IntegerField()
    completed_at = serializers.DateTimeField(allow_null=True)
    modules = ModuleStateSerializer(many=True)
    action_plan = ActionPlanStatusSerializer()


class ActionPlanRequestSerializer(serializers.Serializer):
    """What a participant writes; the service checks the lengths again (one rule, its constants)."""

    change = serializers.CharField(
        min_length=ACTION_PLAN_TEXT_MIN,
        max_length=ACTION_PLAN_TEXT_MAX,
        help_text=_("The concrete change the participant will lead in their perangkat daerah."),
    )
    lead = serializers.CharField(
        min_length=ACTION_PLAN_TEXT_MIN,
        max_length=ACTION_PLAN_TEXT_MAX,
        help_text=_("Who leads it, and with whom."),
    )
    due_on = serializers.DateField(help_text=_("By when (a date)."))
    indicator = serializers.CharField(
        min_length=ACTION_PLAN_TEXT_MIN,
        max_length=ACTION_PLAN_TEXT_MAX,
        help_text=_("How success is measured."),
    )


class ActionPlanSerializer(serializers.Serializer):
    change = serializers.CharField()
    lead = serializers.CharField()
    due_on = serializers.DateField()
    indicator = serializers.CharField()
    submitted_at = serializers.DateTimeField(help_text=_("When the plan was first submitted."))
    updated_at = serializers.DateTimeField(help_text=_("When it was last changed."))


class CohortActionPlanSerializer(serializers.Serializer):
    """Documents ``selectors.action_plan_row``, the rows' only builder."""

    nip = serializers.CharField()
    full_name = serializers.CharField()
    unit = serializers.CharField()
    change = serializers.CharField()
    lead = serializers.CharField()
    due_on = serializers.DateField()
    indicator = serializers.CharField()
    submitted_at = serializers.DateTimeField()


class CohortProgressModuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="module.pk")
    state = serializers.ChoiceField(choices=["locked", "available", "completed"])
    best_score = serializers.IntegerField(allow_null=True)
    attempts_left = serializers.IntegerField(
        allow_null=True,
        help_text="Attempts the participant may still start at the module's quiz (extra "
        "attempts granted included); null for a module without a quiz.",
    )


class CohortProgressSerializer(serializers.Serializer):
    """Documents the rows ``reports.cohort_progress_json_stream_response`` streams (a test keeps the fields equal)."""

    nip = serializers.CharField(source="enrollment.participant.nip")
    full_name = serializers.CharField(source="enrollment.participant.full_name")
    unit = serializers.CharField(source="enrollment.participant.unit")
    progress_percent = serializers.IntegerField()
    modules = CohortProgressModuleSerializer(many=True)
    completed_at = serializers.DateTimeField(allow_null=True)

    def get_fields(self):
        # Then the columns other apps registered (certificates: certificate_number), text or null.
        fields = super().get_fields()
        for column in progress_columns():
            fields[column.key] = serializers.CharField(allow_null=True, help_text=str(column.label))
        return fields


class LessonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="lesson.pk")
    title = serializers.CharField(source="lesson.title")
    body_html = serializers.CharField()
    module = serializers.IntegerField(source="lesson.module_id")
    order = serializers.IntegerField(source="lesson.order")
    previous = serializers.IntegerField(source="previous_id", allow_null=True)
    next = serializers.IntegerField(source="next_id", allow_null=True)
    completed = serializers.BooleanField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class InvitationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending", "sent", "accepted"])
    sent_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)


class CohortEnrollmentSerializer(serializers.Serializer):
    """A participant of a cohort as operators see them (a ``ParticipantRow``)."""

    id = serializers.IntegerField(source="enrollment.pk")
    nip = serializers.CharField(source="participant.nip")
    full_name = serializers.CharField(source="participant.full_name")
    email = serializers.EmailField()
    unit = serializers.CharField(source="participant.unit")
    position = serializers.CharField(source="enrollment.profile_position")
    invitation = InvitationSerializer()
    progress_percent = serializers.IntegerField()
    completed_at = serializers.DateTimeField(allow_null=True)
    last_activity = serializers.DateTimeField(
        allow_null=True, help_text="The latest lesson read or sign-in (null: none yet)."
    )
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=["not_started", "behind_pace", "out_of_attempts", "completed"]),
        help_text="`behind_pace`: progress below the share of the cohort's period already gone; "
        "`out_of_attempts`: no attempt left at the quiz of a module not yet passed.",
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["flags"] = [
            flag for flag in ("not_started", "behind_pace", "out_of_attempts", "completed") if flag in instance.flags
        ]
        return data


class TextOnlyField(serializers.CharField):
    """DRF's CharField, refusing what is not text (DRF turns a JSON number or boolean into its string)."""

    default_error_messages = {"invalid": _("Not a valid string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class EnrollmentIdsSerializer(serializers.Serializer):
    enrollments = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=20_000,
        help_text="Enrolment ids of the cohort; absent or empty: everyone not yet accepted.",
    )


class QueuedSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Emails queued (people already sent one today are not counted).")
