"""Django admin for the catalogue and participant profiles."""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import (
    ActionPlan,
    AuditEntry,
    Cohort,
    Course,
    Enrollment,
    Lesson,
    Module,
    ParticipantMessage,
    ParticipantProfile,
)


class ModuleInline(admin.TabularInline):
    model = Module
    fields = ("order", "key", "stage", "title")
    ordering = ("order",)
    extra = 0
    show_change_link = True


class LessonInline(admin.StackedInline):
    model = Lesson
    fields = ("order", "key", "title", "body")
    ordering = ("order",)
    extra = 0
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "published", "updated_at")
    list_filter = ("published",)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [ModuleInline]


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "order", "stage", "lesson_count")
    list_filter = ("course", "stage")
    ordering = ("course", "order")
    search_fields = ("title", "key")
    inlines = [LessonInline]

    @admin.display(description=_("lessons"))
    def lesson_count(self, obj: Module) -> int:
        return obj.lessons.count()


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ("title", "module", "order", "updated_at")
    list_filter = ("module__course", "module")
    ordering = ("module__course", "module__order", "order")
    search_fields = ("title", "key", "body")


@admin.register(ParticipantProfile)
class ParticipantProfileAdmin(admin.ModelAdmin):
    list_display = ("nip", "full_name", "unit", "position", "invited_at")
    search_fields = ("nip", "full_name", "user__email")
    list_filter = ("unit",)
    raw_id_fields = ("user",)


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "course", "starts_on", "ends_on", "participant_count")
    list_filter = ("course",)
    search_fields = ("name", "enrollments__participant__nip")
    date_hierarchy = "starts_on"
    fields = (
        "course",
        "name",
        "starts_on",
        "ends_on",
        "contact_name",
        "contact_email",
        "contact_phone",
        "enrollments_link",
    )
    readonly_fields = ("enrollments_link",)
    # No enrolment inline: a cohort has hundreds of participants, and an inline costs a query and
    # several form fields per row (past DATA_UPLOAD_MAX_NUMBER_FIELDS). The enrolment changelist,
    # filtered by cohort, pages, searches by NIP and scales.

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(participants=Count("enrollments"))

    @admin.display(description=_("participants"), ordering="participants")
    def participant_count(self, obj: Cohort) -> str:
        return format_html('<a href="{}">{}</a>', _enrollments_url(obj), obj.participants)

    @admin.display(description=_("enrolments"))
    def enrollments_link(self, obj: Cohort) -> str:
        if obj.pk is None:  # the add form: nobody is enrolled yet
            return "—"
        count = getattr(obj, "participants", None)
        if count is None:
            count = obj.enrollments.count()
        label = ngettext("View %(count)d enrolment", "View %(count)d enrolments", count) % {"count": count}
        return format_html('<a href="{}">{}</a>', _enrollments_url(obj), label)


def _enrollments_url(cohort: Cohort) -> str:
    return reverse("admin:courses_enrollment_changelist") + "?" + urlencode({"cohort__id__exact": cohort.pk})


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("participant_nip", "participant", "cohort", "enrolled_at", "completed_at")
    list_filter = ("cohort__course", "cohort")
    search_fields = ("participant__nip", "participant__full_name", "participant__user__email")
    raw_id_fields = ("participant",)
    list_select_related = ("participant", "cohort")
    readonly_fields = ("enrolled_at",)

    @admin.display(description=_("NIP"), ordering="participant__nip")
    def participant_nip(self, obj: Enrollment) -> str:
        return obj.participant.nip


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record only the application writes: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ActionPlan)
class ActionPlanAdmin(ReadOnlyAdmin):
    """Participants' action plans, to read: they are written (and revised) on the participant's page only."""

    list_display = ("participant", "cohort", "due_on", "submitted_at", "updated_at")
    list_filter = ("enrollment__cohort__course", "enrollment__cohort")
    search_fields = ("enrollment__participant__nip", "enrollment__participant__full_name", "change")
    list_select_related = ("enrollment__participant", "enrollment__cohort")
    readonly_fields = ("enrollment", "change", "lead", "due_on", "indicator", "submitted_at", "updated_at")

    @admin.display(description=_("participant"), ordering="enrollment__participant__full_name")
    def participant(self, obj: ActionPlan):
        return obj.enrollment.participant

    @admin.display(description=_("cohort"), ordering="enrollment__cohort__name")
    def cohort(self, obj: ActionPlan):
        return obj.enrollment.cohort


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor_name", "cohort", "enrollment")
    list_filter = ("action", "cohort")
    search_fields = ("actor_name", "enrollment__participant__nip", "enrollment__participant__full_name")
    list_select_related = ("cohort", "enrollment__participant", "enrollment__cohort")
    date_hierarchy = "created_at"


@admin.register(ParticipantMessage)
class ParticipantMessageAdmin(ReadOnlyAdmin):
    list_display = ("day", "kind", "enrollment", "requested_by", "sent_at")
    list_filter = ("kind", "day")
    search_fields = ("enrollment__participant__nip", "enrollment__participant__full_name")
    list_select_related = ("enrollment__participant", "enrollment__cohort", "requested_by")
