"""Thin DRF views of the assessments API: parse, call one service or selector, serialise."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.models import Attempt
from assessments.selectors import (
    attempt_answers,
    attempt_detail,
    attempt_for_user,
    attempts_left,
    quiz_get,
    quiz_with_answer_key,
)
from assessments.services import allowance_grant_checked, answers_save, attempt_start, attempt_submit
from courses.api.errors import DomainErrorsMixin
from courses.models import Enrollment
from courses.permissions import IsOperator

from .serializers import (
    AllowanceRequestSerializer,
    AllowanceResultSerializer,
    AnswersSerializer,
    AssessmentErrorSerializer,
    AttemptSerializer,
    QuizWithKeySerializer,
    SavedAnswersSerializer,
    SubmitResultSerializer,
    SubmitSerializer,
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(AssessmentErrorSerializer, description=description)


class QuizDetailView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]

    @extend_schema(responses={200: QuizWithKeySerializer, 403: _error("Not an operator.")})
    def get(self, request: Request, pk: int) -> Response:
        quiz = quiz_with_answer_key(quiz_id=pk)
        if quiz is None:
            raise Http404
        return Response(QuizWithKeySerializer(quiz).data)


class AttemptStartView(DomainErrorsMixin, APIView):
    # Explicit, not the project's default: a host project may default to AllowAny.
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(
                AttemptSerializer,
                description="The attempt: a new one, or the one already in progress (same `id`), resumed.",
            ),
            403: _error("Not enrolled (`not_enrolled`) or the module is locked (`module_locked`)."),
            409: _error("No attempts left (`no_attempts_left`)."),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        quiz = quiz_get(quiz_id=pk)
        if quiz is None:
            raise Http404
        started = attempt_start(user=request.user, quiz=quiz)
        # 201 also when resuming: the contract fixes 201 and clients check it; the same id tells them apart.
        return Response(AttemptSerializer(attempt_detail(attempt=started.attempt)).data, status=status.HTTP_201_CREATED)


def _owned_attempt(request: Request, pk: int):
    attempt = attempt_for_user(user=request.user, attempt_id=pk)
    if attempt is None:
        raise Http404
    return attempt


class AttemptDetailView(DomainErrorsMixin, APIView):
    # Explicit, not the project's default: a host project may default to AllowAny.
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AttemptSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(AttemptSerializer(attempt_detail(attempt=_owned_attempt(request, pk))).data)


class AnswersView(DomainErrorsMixin, APIView):
    """Where a participant sends the answers of their attempt."""

    # Explicit, not the project's default: a host project may default to AllowAny.
    permission_classes = [IsAuthenticated]
    # JSON only: a form cannot carry the nested answers, which DRF would then read as none at all.
    parser_classes = [JSONParser]


class AnswersSaveView(AnswersView):
    @extend_schema(
        request=AnswersSerializer,
        responses={
            200: SavedAnswersSerializer,
            400: _error("An answer does not fit the attempt (`invalid_answer`)."),
            409: _error("Submitted already (`already_submitted`) or past the time limit (`expired`)."),
        },
        description="Save answers as the participant goes. Only the questions given are replaced.",
    )
    def put(self, request: Request, pk: int) -> Response:
        attempt = _owned_attempt(request, pk)
        body = AnswersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answers_save(attempt=attempt, answers=body.validated_data["answers"])
        return Response(SavedAnswersSerializer({"id": attempt.pk, "answers": attempt_answers(attempt=attempt)}).data)


class AttemptSubmitView(AnswersView):
    @extend_schema(
        request=SubmitSerializer,
        responses={
            200: SubmitResultSerializer,
            400: _error("An answer does not fit the attempt (`invalid_answer`); nothing was saved."),
            409: _error(
                "Submitted already (`already_submitted`), or past the time limit (`expired`): "
                "then graded on the answers saved in time."
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        body = SubmitSerializer(data=request.data)
        if not body.is_valid():
            _owned_attempt(request, pk)  # someone else's attempt stays a 404, whatever the body
            raise ValidationError(body.errors)
        # The attempt is read once, locked and checked for its owner, inside the service.
        graded = attempt_submit(attempt=Attempt(pk=pk), answers=body.validated_data["answers"], owner=request.user)
        if graded is None:
            raise Http404
        graded.attempts_left = attempts_left(enrollment_id=graded.enrollment_id, quiz=graded.quiz)
        return Response(SubmitResultSerializer(graded).data)


class AllowanceGrantView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]
    parser_classes = [JSONParser]

    @extend_schema(
        request=AllowanceRequestSerializer,
        responses={
            201: AllowanceResultSerializer,
            400: OpenApiResponse(description="A field is invalid (its name, with the message)."),
            403: _error("Not an operator."),
            404: _error("No such enrolment or quiz."),
        },
        description="Grant a participant 1–5 extra attempts at a quiz of their course, with a reason; "
        "recorded with who granted them. The participant can then start an attempt.",
    )
    def post(self, request: Request, pk: int) -> Response:
        enrollment = Enrollment.objects.select_related("cohort").filter(pk=pk).first()
        if enrollment is None:
            raise Http404
        serializer = AllowanceRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        quiz = quiz_get(quiz_id=data["quiz"])
        if quiz is None:
            raise Http404
        allowance_grant_checked(
            enrollment=enrollment,
            quiz=quiz,
            extra=data["extra_attempts"],
            granted_by=request.user,
            reason=data["reason"],
        )
        left = attempts_left(enrollment_id=enrollment.pk, quiz=quiz)
        return Response(
            {"quiz": quiz.pk, "extra_attempts": data["extra_attempts"], "attempts_left": left},
            status=status.HTTP_201_CREATED,
        )
