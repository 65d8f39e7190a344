"""API routes of the courses app; a host mounts them under /api/v1/."""

from django.urls import path

from .views import (
    ActionPlanView,
    CohortActionPlansView,
    CohortEnrollmentsView,
    CohortListCreateView,
    CohortProgressView,
    CourseDetailView,
    CourseListView,
    EnrollmentImportView,
    EnrollmentTemplateView,
    InvitationsResendView,
    LessonCompleteView,
    LessonDetailView,
    MyEnrollmentsView,
    RemindersView,
    TokenObtainView,
)

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("courses/", CourseListView.as_view(), name="api-course-list"),
    path("courses/<slug:slug>/", CourseDetailView.as_view(), name="api-course-detail"),
    path("cohorts/", CohortListCreateView.as_view(), name="api-cohort-list"),
    path("cohorts/<int:pk>/enrollments/import/", EnrollmentImportView.as_view(), name="api-enrollment-import"),
    path("cohorts/<int:pk>/action-plans/", CohortActionPlansView.as_view(), name="api-cohort-action-plans"),
    path("enrollments/<int:pk>/action-plan/", ActionPlanView.as_view(), name="api-enrollment-action-plan"),
    path("cohorts/<int:pk>/enrollments/", CohortEnrollmentsView.as_view(), name="api-cohort-enrollments"),
    path("cohorts/<int:pk>/invitations/resend/", InvitationsResendView.as_view(), name="api-cohort-invitations-resend"),
    path("cohorts/<int:pk>/reminders/", RemindersView.as_view(), name="api-cohort-reminders"),
    path("cohorts/<int:pk>/progress/", CohortProgressView.as_view(), name="api-cohort-progress"),
    path("enrollment-template/", EnrollmentTemplateView.as_view(), name="api-enrollment-template"),
    path("lessons/<int:pk>/", LessonDetailView.as_view(), name="api-lesson-detail"),
    path("lessons/<int:pk>/complete/", LessonCompleteView.as_view(), name="api-lesson-complete"),
    path("me/enrollments/", MyEnrollmentsView.as_view(), name="api-my-enrollments"),
]
