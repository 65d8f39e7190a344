"""Thin DRF views of the courses API."""

from collections.abc import Mapping

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses.auth_limits import lockout_headers, lockout_message, login_lockout
from courses.enrollment_file import EnrollmentFileInvalid, FileError
from courses.errors import FileFormatUnknown, ModuleLocked, NotEnrolled, SignInLocked
from courses.models import Cohort, Enrollment, Lesson
from courses.people_export import TEMPLATE_FORMATS, enrollment_template_response
from courses.permissions import IsOperator, IsParticipant
from courses.reports import (
    cohort_action_plans_csv_response,
    cohort_action_plans_xlsx_response,
    cohort_progress_csv_stream_response,
    cohort_progress_json_stream_response,
    cohort_progress_xlsx_response,
)
from courses.selectors import (
    FLAGS,
    LessonAccessReason,
    action_plan_row,
    cohort_action_plans,
    cohort_enrollments,
    cohort_list,
    cohort_participants_overview,
    course_list_published,
    course_outline,
    enrollment_action_plan,
    enrollment_for_course,
    enrollments_progress,
    lesson_access,
    lesson_view,
    participant_enrollments,
)
from courses.services import (
    action_plan_submit,
    cohort_create,
    enrollment_import,
    invitations_resend,
    lesson_complete,
    reminders_send,
)

from .errors import DomainErrorsMixin
from .renderers import CSVRenderer, FileRenderersMixin, XLSXRenderer
from .serializers import (
    ActionPlanRequestSerializer,
    ActionPlanSerializer,
    CohortActionPlanSerializer,
    CohortEnrollmentSerializer,
    CohortProgressSerializer,
    CohortSerializer,
    CourseDetailSerializer,
    CourseListSerializer,
    EnrollmentIdsSerializer,
    EnrollmentImportErrorSerializer,
    EnrollmentImportRequestSerializer,
    EnrollmentImportResultSerializer,
    EnrollmentProgressSerializer,
    ErrorSerializer,
    LessonSerializer,
    QueuedSerializer,
    TokenSerializer,
)


def cohort_table_schema(serializer_class):
    """The schema of a cohort table that answers as JSON rows, CSV or an XLSX workbook (``?format=``)."""
    return extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["json", "csv", "xlsx"],
                description="csv (or `Accept: text/csv`): the same rows as CSV; xlsx: as an Excel workbook "
                "whose NIP and text cells are stored as text.",
            )
        ],
        responses={
            (200, "application/json"): serializer_class(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
            (401, "application/json"): ErrorSerializer,
            (403, "application/json"): ErrorSerializer,
            (404, "application/json"): ErrorSerializer,
        },
    )


class TokenObtainView(DomainErrorsMixin, ObtainAuthToken):
    """DRF's token endpoint behind the sign-in limit: once locked out, not even the right password gets in."""

    @extend_schema(
        description="Exchange a username (a participant's NIP) and password for an API token. After too many "
        "failed attempts for one username, or from one client, within the window (by default 10 in 15 "
        "minutes), every attempt gets 429 until the window ends, even with the right password.",
        request=AuthTokenSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Wrong credentials (`non_field_errors`), or a field missing."),
            429: OpenApiResponse(
                ErrorSerializer,
                description="Too many failed attempts for this username or from this client "
                "(code `too_many_attempts`); try again after `Retry-After` seconds.",
            ),
        },
        parameters=[
            OpenApiParameter(
                "Retry-After",
                int,
                location=OpenApiParameter.HEADER,
                response=[429],
                description="Seconds until the window of failed attempts ends.",
            )
        ],
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        data = request.data if isinstance(request.data, Mapping) else {}
        lockout = login_lockout(request=request, username=data.get("username"))
        if lockout is not None:
            raise SignInLocked(lockout_message(lockout), headers=lockout_headers(lockout))
        return super().post(request, *args, **kwargs)


class CourseListView(DomainErrorsMixin, APIView):
    # Explicit, not the project's default: a host project may default to AllowAny.
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CourseListSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(CourseListSerializer(course_list_published(), many=True).data)


class CourseDetailView(DomainErrorsMixin, APIView):
    # Explicit, not the project's default: a host project may default to AllowAny.
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CourseDetailSerializer)
    def get(self, request: Request, slug: str) -> Response:
        outline = course_outline(slug=slug)
        if outline is None:
            raise Http404
        return Response(CourseDetailSerializer(outline).data)


class CohortListCreateView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]

    @extend_schema(responses=CohortSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(CohortSerializer(cohort_list(), many=True).data)

    @extend_schema(request=CohortSerializer, responses={201: CohortSerializer})
    def post(self, request: Request) -> Response:
        serializer = CohortSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cohort = cohort_create(**serializer.validated_data)  # CohortInvalid: 400 at its field
        cohort.participants_count = 0
        return Response(CohortSerializer(cohort).data, status=status.HTTP_201_CREATED)


class EnrollmentImportView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": EnrollmentImportRequestSerializer},
        parameters=[OpenApiParameter("dry_run", bool, description="Validate and count without writing.")],
        responses={200: EnrollmentImportResultSerializer, 400: EnrollmentImportErrorSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        cohort = get_object_or_404(Cohort, pk=pk)
        upload = request.FILES.get("file")
        if upload is None:
            raise EnrollmentFileInvalid([FileError(None, None, _("Attach the file in the field “file”."))])
        dry_run = request.query_params.get("dry_run", "").lower() in ("1", "true", "yes")
        # EnrollmentFileInvalid: 400 with every problem; EnrollmentConflict: 409.
        result = enrollment_import(
            cohort=cohort, upload=upload, name=upload.name, size=upload.size, dry_run=dry_run, by=request.user
        )
        return Response(result.as_dict())


# What a refused lesson_access means in the API (an unpublished course's lesson is a 404).
LESSON_REFUSALS = {LessonAccessReason.NOT_ENROLLED: NotEnrolled, LessonAccessReason.MODULE_LOCKED: ModuleLocked}


class LessonDetailView(DomainErrorsMixin, APIView):
    # Explicit, not the project's default: a host project may default to AllowAny.
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: LessonSerializer, 403: ErrorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        lesson = get_object_or_404(Lesson.objects.select_related("module__course"), pk=pk)
        access = lesson_access(user=request.user, lesson=lesson)
        if access.reason == LessonAccessReason.UNPUBLISHED:
            raise Http404
        if not access.allowed:
            raise LESSON_REFUSALS[access.reason]()
        return Response(LessonSerializer(lesson_view(lesson=lesson, enrollment=access.enrollment)).data)


class LessonCompleteView(DomainErrorsMixin, APIView):
    permission_classes = [IsParticipant]

    @extend_schema(request=None, responses={200: EnrollmentProgressSerializer, 403: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        lesson = get_object_or_404(Lesson.objects.select_related("module"), pk=pk, module__course__published=True)
        enrollment = enrollment_for_course(user=request.user, course_id=lesson.module.course_id)
        if enrollment is None:
            raise NotEnrolled()
        # The service checks the module is unlocked (ModuleLocked: 403), under the enrolment's lock.
        lesson_complete(enrollment=enrollment, lesson=lesson)
        (progress,) = enrollments_progress(Enrollment.objects.filter(pk=enrollment.pk))
        return Response(EnrollmentProgressSerializer(progress).data)


class MyEnrollmentsView(DomainErrorsMixin, APIView):
    permission_classes = [IsParticipant]

    @extend_schema(responses=EnrollmentProgressSerializer(many=True))
    def get(self, request: Request) -> Response:
        progress = enrollments_progress(participant_enrollments(user=request.user))
        return Response(EnrollmentProgressSerializer(progress, many=True).data)


class CohortTableView(DomainErrorsMixin, FileRenderersMixin, APIView):
    """A cohort's table for its operators: JSON rows, or the same as CSV or an XLSX workbook (``?format=``)."""

    permission_classes = [IsOperator]
    # The CSV and XLSX renderers only stand for the table the view builds; errors and OPTIONS stay JSON.
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    def table_response(self, request: Request, pk: int, *, csv, xlsx, json):
        """The answer of ``csv``, ``xlsx`` or ``json`` (each called with the cohort) in the negotiated format."""
        cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
        return {"csv": csv, "xlsx": xlsx}.get(request.accepted_renderer.format, json)(cohort)


class CohortProgressView(CohortTableView):
    @cohort_table_schema(CohortProgressSerializer)
    def get(self, request: Request, pk: int):
        return self.table_response(
            request,
            pk,
            csv=lambda cohort: cohort_progress_csv_stream_response(cohort=cohort),
            xlsx=lambda cohort: cohort_progress_xlsx_response(
                cohort=cohort, enrollments=cohort_enrollments(cohort=cohort)
            ),
            # Streamed from plain rows (CohortProgressSerializer documents their shape): memory stays
            # bounded and the SQL linear at any cohort size.
            json=lambda cohort: cohort_progress_json_stream_response(cohort=cohort),
        )


class ActionPlanView(DomainErrorsMixin, APIView):
    """The enrolment's action plan, for its participant only (anyone else: 404)."""

    permission_classes = [IsParticipant]

    def _enrollment(self, request: Request, pk: int) -> Enrollment:
        return get_object_or_404(participant_enrollments(user=request.user).select_related("cohort__course"), pk=pk)

    @extend_schema(responses={200: ActionPlanSerializer, 404: ErrorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        plan = enrollment_action_plan(enrollment=self._enrollment(request, pk))
        if plan is None:
            raise Http404
        return Response(ActionPlanSerializer(plan).data)

    @extend_schema(
        description="Submit or revise the action plan (rencana aksi). Each text 10–2,000 characters, `due_on` a "
        "date. Editable until the course is completed; once every module is completed, submitting it completes "
        "the course (and the certificate is issued).",
        request=ActionPlanRequestSerializer,
        responses={
            200: ActionPlanSerializer,
            400: OpenApiResponse(description="A field missing or invalid (`{field: [messages]}`)."),
            404: ErrorSerializer,
            409: OpenApiResponse(
                ErrorSerializer, description="The course is already completed (code `course_completed`)."
            ),
        },
    )
    def put(self, request: Request, pk: int) -> Response:
        enrollment = self._enrollment(request, pk)
        serializer = ActionPlanRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # ActionPlanNotOffered: 404; ActionPlanClosed: 409; ActionPlanInvalid: 400 at its fields.
        plan = action_plan_submit(enrollment=enrollment, **serializer.validated_data)
        return Response(ActionPlanSerializer(plan).data)


class CohortActionPlansView(CohortTableView):
    @cohort_table_schema(CohortActionPlanSerializer)
    def get(self, request: Request, pk: int):
        return self.table_response(
            request,
            pk,
            csv=lambda cohort: cohort_action_plans_csv_response(cohort=cohort),
            xlsx=lambda cohort: cohort_action_plans_xlsx_response(cohort=cohort),
            json=lambda cohort: Response(
                CohortActionPlanSerializer(
                    [action_plan_row(plan) for plan in cohort_action_plans(cohort=cohort)], many=True
                ).data
            ),
        )


class EnrollmentTemplateView(DomainErrorsMixin, FileRenderersMixin, APIView):
    """The empty enrolment file, headers only (in the request's language), for operators to fill in."""

    permission_classes = [IsOperator]
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    def perform_content_negotiation(self, request, force=False):
        # An unknown ?format= is answered with a clear 400 (below), not DRF's 404 for a missing renderer.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=list(TEMPLATE_FORMATS),
                description="xlsx (default): a workbook whose NIP column is formatted as Text; "
                "csv: semicolon-separated, UTF-8 with BOM.",
            )
        ],
        responses={
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.STR,
            (400, "application/json"): ErrorSerializer,
            (401, "application/json"): ErrorSerializer,
            (403, "application/json"): ErrorSerializer,
        },
    )
    def get(self, request: Request):
        file_format = request.query_params.get("format") or (
            "csv" if request.accepted_renderer.format == "csv" else "xlsx"
        )
        if file_format not in TEMPLATE_FORMATS:
            raise FileFormatUnknown()
        return enrollment_template_response(file_format)


class CohortEnrollmentsView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        parameters=[
            OpenApiParameter("flag", str, enum=list(FLAGS), description="Only the participants with this flag.")
        ],
        responses={
            200: CohortEnrollmentSerializer(many=True),
            400: OpenApiResponse(description='An unknown `flag` (`{"flag": [message]}`).'),
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        cohort = get_object_or_404(Cohort, pk=pk)
        flag = request.query_params.get("flag")
        if flag is not None and flag not in FLAGS:  # an empty ?flag= too: leave it out for everyone
            message = _("Unknown flag %(flag)s: use one of %(flags)s.") % {"flag": flag[:40], "flags": ", ".join(FLAGS)}
            return Response({"detail": message, "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST)
        overview = cohort_participants_overview(cohort=cohort, flag=flag or "")
        return Response(CohortEnrollmentSerializer(overview.rows, many=True).data)


class InvitationsResendView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]
    parser_classes = [JSONParser]  # the contract's body is JSON; a form or multipart body is a 415

    @extend_schema(
        request=EnrollmentIdsSerializer,
        responses={202: QueuedSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        description="Send the invitation again to the given participants (absent or empty: everyone who has "
        "not set a password yet); accepted ones are skipped, and nobody gets more than one a day.",
    )
    def post(self, request: Request, pk: int) -> Response:
        cohort = get_object_or_404(Cohort, pk=pk)
        serializer = EnrollmentIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        queued = invitations_resend(
            cohort=cohort, by=request.user, enrollment_ids=serializer.validated_data.get("enrollments") or None
        )
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)


class RemindersView(DomainErrorsMixin, APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        request=None,
        responses={202: QueuedSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        description="Email a reminder to every participant behind the cohort's pace (or not started); "
        "nobody gets more than one a day, whoever asks.",
    )
    def post(self, request: Request, pk: int) -> Response:
        cohort = get_object_or_404(Cohort, pk=pk)
        return Response({"queued": reminders_send(cohort=cohort, by=request.user)}, status=status.HTTP_202_ACCEPTED)
