"""Serializers of the assessments API (contract shapes in API.md); participant shapes carry no answer key."""

from rest_framework import serializers

from assessments.models import ReviewPolicy
from assessments.selectors import ReviewMode
from courses.api.serializers import TextOnlyField


class AssessmentErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


# --- Requests -------------------------------------------------------------------------------------


class AnswerSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    choices = serializers.ListField(child=serializers.IntegerField(), allow_empty=True, max_length=100)


class AnswersSerializer(serializers.Serializer):
    answers = AnswerSerializer(many=True, max_length=500)


class SubmitSerializer(serializers.Serializer):
    answers = AnswerSerializer(many=True, required=False, default=list, max_length=500)


# --- Participant responses -----------------------------------------------------------------------


class AttemptChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class AttemptQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    kind = serializers.ChoiceField(choices=["single", "multiple", "true_false"])
    choices = AttemptChoiceSerializer(many=True)


class AttemptQuizSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    pass_mark = serializers.IntegerField()
    time_limit_minutes = serializers.IntegerField(allow_null=True)
    allow_review = serializers.BooleanField(help_text="False: the full review never opens for this quiz.")
    review = serializers.ChoiceField(
        choices=ReviewPolicy.values,
        help_text="When the full review of a failed attempt opens: `after_final` once the quiz is passed or the "
        "last attempt (extra attempts granted included) is used; `after_pass` only once the quiz is passed.",
    )


class RevisitLessonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class ReviewItemSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    correct = serializers.BooleanField()
    explanation = serializers.CharField()


class AttemptSerializer(serializers.Serializer):
    """An attempt as its owner sees it; what it shows of the answers follows ``review_mode``."""

    id = serializers.IntegerField()
    quiz = AttemptQuizSerializer()
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["in_progress", "submitted", "expired"])
    started_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    questions = AttemptQuestionSerializer(many=True)
    answers = AnswerSerializer(many=True)
    score_percent = serializers.IntegerField(allow_null=True)
    passed = serializers.BooleanField(allow_null=True)
    attempts_left = serializers.IntegerField()
    review_mode = serializers.ChoiceField(
        choices=[mode.value for mode in ReviewMode],
        help_text="`none`: open, or passed at a quiz that shows no answers (score only). `revisit`: failed while "
        "attempts remain (or the quiz shows answers only after a pass or never): `revisit_lessons`, no per-question "
        "result. `full`: `review`, each question right or wrong with its explanation.",
    )
    review = ReviewItemSerializer(many=True, allow_null=True, help_text="Only in `full` mode; otherwise null.")
    revisit_lessons = RevisitLessonSerializer(
        many=True,
        allow_null=True,
        help_text="Only in `revisit` mode: the lessons of the questions answered wrong, once each, in course "
        "order; otherwise null.",
    )


class SavedAnswersSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    answers = AnswerSerializer(many=True)


class SubmitResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    score_percent = serializers.IntegerField()
    passed = serializers.BooleanField()
    attempts_left = serializers.IntegerField()


# --- Operator responses --------------------------------------------------------------------------


class KeyChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    text = serializers.CharField()
    is_correct = serializers.BooleanField()


class KeyQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    text = serializers.CharField()
    kind = serializers.CharField()
    explanation = serializers.CharField()
    lesson = serializers.IntegerField(source="lesson_id", allow_null=True)
    choices = KeyChoiceSerializer(many=True, source="choices.all")


class QuizWithKeySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    pass_mark = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    time_limit_minutes = serializers.IntegerField(allow_null=True)
    shuffle_questions = serializers.BooleanField()
    shuffle_choices = serializers.BooleanField()
    allow_review = serializers.BooleanField()
    review = serializers.ChoiceField(choices=ReviewPolicy.values)
    questions = KeyQuestionSerializer(many=True, source="questions.all")


class AllowanceRequestSerializer(serializers.Serializer):
    quiz = serializers.IntegerField(min_value=1)
    extra_attempts = serializers.IntegerField(min_value=1, max_value=5)
    reason = TextOnlyField(max_length=200)


class AllowanceResultSerializer(serializers.Serializer):
    quiz = serializers.IntegerField()
    extra_attempts = serializers.IntegerField(help_text="The attempts this grant added.")
    attempts_left = serializers.IntegerField(help_text="Attempts the participant may now start at the quiz.")
