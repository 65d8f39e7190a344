"""API routes of the assessments app; a host mounts them under /api/v1/."""

from django.urls import path

from .views import (
    AllowanceGrantView,
    AnswersSaveView,
    AttemptDetailView,
    AttemptStartView,
    AttemptSubmitView,
    QuizDetailView,
)

urlpatterns = [
    path("quizzes/<int:pk>/", QuizDetailView.as_view(), name="api-quiz-detail"),
    path("quizzes/<int:pk>/attempts/", AttemptStartView.as_view(), name="api-attempt-start"),
    path("attempts/<int:pk>/", AttemptDetailView.as_view(), name="api-attempt-detail"),
    path("attempts/<int:pk>/answers/", AnswersSaveView.as_view(), name="api-attempt-answers"),
    path("enrollments/<int:pk>/allowances/", AllowanceGrantView.as_view(), name="api-allowance-grant"),
    path("attempts/<int:pk>/submit/", AttemptSubmitView.as_view(), name="api-attempt-submit"),
]
