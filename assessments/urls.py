"""Server-rendered pages of the assessments app."""

from django.urls import path

from . import views

app_name = "assessments"
urlpatterns = [
    path("quizzes/<int:pk>/", views.quiz_detail, name="quiz"),
    path("attempts/<int:pk>/", views.attempt_take, name="attempt"),
    path("attempts/<int:pk>/result/", views.attempt_result, name="attempt-result"),
    path("operator/enrollments/<int:pk>/allowances/", views.operator_grant, name="operator-grant"),
]
