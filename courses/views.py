"""Server-rendered pages of the courses app: catalogue, sign-in, and the operators' cohort pages."""

import io
import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .conf import courses_setting
from .enrollment_file import EnrollmentFileInvalid, FileError
from .errors import CohortInvalid, EnrollmentConflict
from .forms import CohortForm, EnrollmentUploadForm
from .models import Cohort, Enrollment, Lesson
from .reports import cohort_progress_csv_response, cohort_progress_xlsx_response
from .selectors import (
    cohort_enrollments,
    cohort_list,
    cohort_participants,
    cohort_units,
    course_list_published,
    course_outline,
    enrollments_progress,
    lesson_view,
    module_access,
    participant_enrollments,
    user_is_operator,
)
from .services import (
    cohort_create,
    enrollment_import,
    enrollment_upload_discard,
    enrollment_upload_stage,
    enrollment_upload_take,
    lesson_complete,
)

# The stored key keeps its first spelling, so uploads staged before a deploy can still be confirmed.
UPLOADS_SESSION_KEY = "courses_enrolment_uploads"


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "courses/home.html",
        {"courses": course_list_published(), "is_operator": user_is_operator(request.user)},
    )


def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    outline = course_outline(slug=slug)
    if outline is None:
        raise Http404
    return render(request, "courses/course_detail.html", {"outline": outline})


def operator_required(view):
    """Signed-in operators only: others are sent to log in, or refused with 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_is_operator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@operator_required
@require_http_methods(["GET", "POST"])
def operator_cohorts(request: HttpRequest) -> HttpResponse:
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cohort = cohort_create(**form.cleaned_data)
        except CohortInvalid as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("Cohort “%(name)s” created. Now upload its participants.") % {"name": cohort})
            return redirect("courses:operator-import", pk=cohort.pk)
    cohorts = cohort_list().order_by("-starts_on", "name")
    return render(request, "courses/operator/cohorts.html", {"cohorts": cohorts, "form": form})


@operator_required
def operator_cohort(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    search = request.GET.get("q", "")
    unit = request.GET.get("unit", "")
    page = Paginator(cohort_participants(cohort=cohort, search=search, unit=unit), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "courses/operator/cohort.html",
        {"cohort": cohort, "page": page, "q": search, "unit": unit, "units": cohort_units(cohort=cohort)},
    )


def _stash_upload(request: HttpRequest, cohort: Cohort, name: str, data: bytes) -> str:
    token = uuid.uuid4().hex
    uploads = request.session.get(UPLOADS_SESSION_KEY, {})
    uploads[token] = {"cohort": cohort.pk, "path": enrollment_upload_stage(data=data), "name": name}
    request.session[UPLOADS_SESSION_KEY] = uploads
    return token


def _unstash_upload(request: HttpRequest, token: str) -> dict | None:
    uploads = request.session.get(UPLOADS_SESSION_KEY, {})
    entry = uploads.pop(token, None)
    request.session[UPLOADS_SESSION_KEY] = uploads
    return entry


@operator_required
@require_http_methods(["GET", "POST"])
def operator_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload → dry-run report (errors to fix, or counts) → confirm (or cancel) → import."""
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    context = {"cohort": cohort, "form": EnrollmentUploadForm(), "max_mb": courses_setting("IMPORT_MAX_BYTES") / 2**20}
    if request.method == "GET":
        return render(request, "courses/operator/import.html", context)

    token = request.POST.get("token")
    if token:  # the confirm (or cancel) step for the file the operator has just checked
        entry = request.session.get(UPLOADS_SESSION_KEY, {}).get(token)
        if not entry or entry["cohort"] != cohort.pk:
            messages.error(request, _("That upload has expired; please choose the file again."))
            return redirect("courses:operator-import", pk=cohort.pk)
        _unstash_upload(request, token)
        if "cancel" in request.POST:
            enrollment_upload_discard(path=entry["path"])
            return redirect("courses:operator-import", pk=cohort.pk)
        # Taking the file deletes it: the personal data goes whether the import succeeds or fails.
        data = enrollment_upload_take(path=entry["path"])
        if data is None:  # purged while the operator was away
            messages.error(request, _("That upload has expired; please choose the file again."))
            return redirect("courses:operator-import", pk=cohort.pk)
        try:
            result = enrollment_import(cohort=cohort, upload=io.BytesIO(data), name=entry["name"])
        except EnrollmentFileInvalid as exc:
            context.update(errors=exc.errors, filename=entry["name"])
            return render(request, "courses/operator/import.html", context, status=400)
        except EnrollmentConflict as exc:
            messages.error(request, str(exc.message))
            return redirect("courses:operator-import", pk=cohort.pk)
        messages.success(
            request,
            _(
                "Import finished: %(created)d new, %(updated)d updated, %(unchanged)d unchanged; "
                "%(enrolled)d newly enrolled in this cohort."
            )
            % result.as_dict(),
        )
        for warning in result.warnings:
            messages.warning(request, warning.message)
        return redirect("courses:operator-cohort", pk=cohort.pk)

    form = EnrollmentUploadForm(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        return render(request, "courses/operator/import.html", context, status=400)
    upload = form.cleaned_data["file"]
    max_bytes = courses_setting("IMPORT_MAX_BYTES")
    data = upload.read(max_bytes + 1)
    try:
        result = enrollment_import(
            cohort=cohort, upload=io.BytesIO(data), name=upload.name, size=upload.size, dry_run=True
        )
    except EnrollmentFileInvalid as exc:
        context.update(errors=exc.errors, filename=upload.name)
        return render(request, "courses/operator/import.html", context, status=400)
    except EnrollmentConflict as exc:  # pragma: no cover - a dry run writes nothing
        context.update(errors=[FileError(None, None, str(exc.message))], filename=upload.name)
        return render(request, "courses/operator/import.html", context, status=400)
    context.update(result=result, filename=upload.name, token=_stash_upload(request, cohort, upload.name, data))
    return render(request, "courses/operator/import.html", context)


# --- Participant pages ---------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The participant's enrolments with progress; operators go to their cohorts."""
    if not hasattr(request.user, "participant_profile"):
        if user_is_operator(request.user):
            return redirect("courses:operator-cohorts")
        return redirect("courses:home")
    progress = enrollments_progress(participant_enrollments(user=request.user))
    return render(request, "courses/dashboard.html", {"progress": progress})


@login_required
def enrollment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A participant's course: the modules with their state, lessons and quiz."""
    enrollment = get_object_or_404(participant_enrollments(user=request.user), pk=pk)
    (progress,) = enrollments_progress(Enrollment.objects.filter(pk=enrollment.pk))
    outline = course_outline(slug=enrollment.cohort.course.slug, published_only=False)
    done = set(enrollment.lesson_completions.values_list("lesson_id", flat=True))
    modules = [
        {"outline": item, "progress": module_progress}
        for item, module_progress in zip(outline.modules, progress.modules, strict=True)
    ]
    return render(
        request,
        "courses/enrollment_detail.html",
        {"progress": progress, "modules": modules, "done": done, "outline": outline},
    )


@login_required
@require_http_methods(["GET", "POST"])
def lesson_page(request: HttpRequest, pk: int) -> HttpResponse:
    lesson = get_object_or_404(Lesson.objects.select_related("module__course"), pk=pk)
    access = module_access(user=request.user, module=lesson.module)
    if access.enrollment is None and not user_is_operator(request.user):
        return render(request, "courses/locked.html", {"lesson": lesson, "not_enrolled": True}, status=403)
    if access.enrollment is not None and not access.allowed:
        return render(request, "courses/locked.html", {"lesson": lesson, "enrollment": access.enrollment}, status=403)
    if request.method == "POST":
        if access.enrollment is None:
            raise PermissionDenied
        lesson_complete(enrollment=access.enrollment, lesson=lesson)
        view = lesson_view(lesson=lesson, enrollment=access.enrollment)
        if view.next_id and request.POST.get("then") == "next":
            following = Lesson.objects.select_related("module").get(pk=view.next_id)
            if (
                following.module_id == lesson.module_id
                or module_access(user=request.user, module=following.module).allowed
            ):
                return redirect("courses:lesson", pk=view.next_id)
            # The module's last lesson: its quiz (shown on the course page) comes next, not a locked lesson.
            return redirect("courses:enrollment", pk=access.enrollment.pk)
        return redirect("courses:lesson", pk=lesson.pk)
    view = lesson_view(lesson=lesson, enrollment=access.enrollment)
    return render(request, "courses/lesson.html", {"view": view, "enrollment": access.enrollment})


# --- Operator progress ---------------------------------------------------------------------------

PROGRESS_SORTS = {
    "name": lambda item: item.enrollment.participant.full_name.lower(),
    "nip": lambda item: item.enrollment.participant.nip,
    "unit": lambda item: item.enrollment.participant.unit.lower(),
    "progress": lambda item: item.progress_percent,
    "completed": lambda item: (item.completed_at is None, item.completed_at or 0),
}
PROGRESS_STATES = ("completed", "in_progress", "not_started")


def _progress_state(item) -> str:
    if item.completed_at:
        return "completed"
    return "in_progress" if item.progress_percent > 0 else "not_started"


@operator_required
def operator_progress(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    unit = request.GET.get("unit", "")
    state = request.GET.get("state", "")
    state = state if state in PROGRESS_STATES else ""
    export = {"csv": cohort_progress_csv_response, "xlsx": cohort_progress_xlsx_response}.get(request.GET.get("format"))
    if export is not None:  # what the table shows: the same filters
        enrollments = cohort_enrollments(cohort=cohort)
        if unit:
            enrollments = enrollments.filter(participant__unit=unit)
        return export(
            cohort=cohort,
            enrollments=enrollments,
            keep=(lambda item: _progress_state(item) == state) if state else None,
        )
    progress = enrollments_progress(cohort_enrollments(cohort=cohort))
    modules = list(cohort.course.modules.order_by("order", "id"))
    summary = [
        {
            "module": module,
            "completed": sum(1 for item in progress if item.modules[index].state == "completed"),
        }
        for index, module in enumerate(modules)
    ]
    total = len(progress)
    for row in summary:
        row["percent"] = round(row["completed"] * 100 / total) if total else 0
    courses_done = sum(1 for item in progress if item.completed_at)

    rows = [
        item
        for item in progress
        if (not unit or item.enrollment.participant.unit == unit) and (not state or _progress_state(item) == state)
    ]
    sort = request.GET.get("sort", "name")
    descending = sort.startswith("-")
    key = PROGRESS_SORTS.get(sort.lstrip("-"), PROGRESS_SORTS["name"])
    rows.sort(key=key, reverse=descending)
    return render(
        request,
        "courses/operator/progress.html",
        {
            "cohort": cohort,
            "modules": modules,
            "rows": rows,
            "summary": summary,
            "total": total,
            "courses_done": courses_done,
            "units": sorted(
                {item.enrollment.participant.unit for item in progress if item.enrollment.participant.unit}
            ),
            "unit": unit,
            "state": state,
            "sort": sort,
        },
    )
