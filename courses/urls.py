"""Server-rendered pages of the courses app."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import views
from .forms import NipAuthenticationForm, ParticipantPasswordResetForm
from .language import LoginView
from .tokens import invitation_token_generator
from .views.accounts import PasswordSetView

app_name = "courses"
urlpatterns = [
    path("", views.home, name="home"),
    path("courses/<slug:slug>/", views.course_detail, name="course-detail"),
    path("courses/<slug:slug>/selesai/", views.completion, name="completion"),
    path(
        "accounts/login/",
        LoginView.as_view(template_name="courses/auth/login.html", authentication_form=NipAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="courses/auth/password_reset_form.html",
            email_template_name="courses/email/password_reset.txt",
            subject_template_name="courses/email/password_reset_subject.txt",
            form_class=ParticipantPasswordResetForm,
            success_url=reverse_lazy("courses:password-reset-done"),
        ),
        name="password-reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="courses/auth/password_reset_done.html"),
        name="password-reset-done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordSetView.as_view(
            template_name="courses/auth/password_set.html",
            success_url=reverse_lazy("courses:password-set-done"),
        ),
        name="password-reset-confirm",
    ),
    path(
        "accounts/invitation/<uidb64>/<token>/",
        PasswordSetView.as_view(
            template_name="courses/auth/password_set.html",
            token_generator=invitation_token_generator,
            success_url=reverse_lazy("courses:password-set-done"),
            extra_context={"invitation": True},
        ),
        name="invitation-accept",
    ),
    path(
        "accounts/password-set/",
        auth_views.PasswordResetCompleteView.as_view(template_name="courses/auth/password_set_done.html"),
        name="password-set-done",
    ),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("learn/<int:pk>/", views.enrollment_detail, name="enrollment"),
    path("learn/<int:pk>/action-plan/", views.action_plan_page, name="action-plan"),
    path("learn/<int:pk>/modules/<int:module_pk>/help/", views.module_help, name="module-help"),
    path("lessons/<int:pk>/", views.lesson_page, name="lesson"),
    path("operator/cohorts/", views.operator_cohorts, name="operator-cohorts"),
    path("operator/cohorts/<int:pk>/progress/", views.operator_progress, name="operator-progress"),
    path("operator/cohorts/<int:pk>/", views.operator_cohort, name="operator-cohort"),
    path("operator/cohorts/<int:pk>/action-plans/", views.operator_action_plans, name="operator-action-plans"),
    path("operator/cohorts/<int:pk>/import/", views.operator_import, name="operator-import"),
    path("operator/cohorts/<int:pk>/participants/", views.operator_participants, name="operator-participants"),
    path(
        "operator/cohorts/<int:pk>/invitations/resend/",
        views.operator_invitations_resend,
        name="operator-invitations-resend",
    ),
    path("operator/cohorts/<int:pk>/reminders/", views.operator_reminders_send, name="operator-reminders"),
    path(
        "operator/cohorts/<int:pk>/reminders/schedule/",
        views.operator_reminders_switch,
        name="operator-reminders-switch",
    ),
    path("operator/cohorts/<int:pk>/audit/", views.operator_cohort_audit, name="operator-cohort-audit"),
    path("operator/participants/<int:pk>/", views.operator_participant, name="operator-participant"),
    path(
        "operator/participants/<int:pk>/remove/",
        views.operator_participant_remove,
        name="operator-participant-remove",
    ),
]
