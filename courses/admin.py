"""Django admin for the catalogue and participant profiles."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import Cohort, Course, Enrollment, Lesson, Module, ParticipantProfile


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
    list_display = ("title", "slug", "published", "certificate_prefix", "updated_at")
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


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    fields = ("participant", "enrolled_at", "completed_at")
    readonly_fields = ("enrolled_at", "completed_at")
    raw_id_fields = ("participant",)
    extra = 0


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "course", "starts_on", "ends_on", "participant_count")
    list_filter = ("course",)
    search_fields = ("name", "enrollments__participant__nip")
    date_hierarchy = "starts_on"
    inlines = [EnrollmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(participants=Count("enrollments"))

    @admin.display(description=_("participants"), ordering="participants")
    def participant_count(self, obj: Cohort) -> int:
        return obj.participants


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
