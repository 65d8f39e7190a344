"""Serializers of the assessments API (contract shapes in API.md); participant shapes carry no answer key."""

from rest_framework import serializers


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
    allow_review = serializers.BooleanField()


class ReviewItemSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    correct = serializers.BooleanField()
    explanation = serializers.CharField()


class AttemptSerializer(serializers.Serializer):
    """An attempt as its owner sees it; ``review`` is null until graded, and always when review is off."""

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
    review = ReviewItemSerializer(many=True, allow_null=True)


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
    questions = KeyQuestionSerializer(many=True, source="questions.all")
