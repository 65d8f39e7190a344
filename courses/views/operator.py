"""Operators' pages: cohorts, a cohort's participants, the enrollment import and the progress report."""

import io
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..conf import courses_setting
from ..enrollment_file import EnrollmentFileInvalid, FileError
from ..errors import CohortInvalid, EnrollmentConflict
from ..extensions import cohort_actions, progress_columns
from ..forms import CohortForm, EnrollmentUploadForm
from ..models import Cohort
from ..permissions import operator_required
from ..reports import (
    cohort_action_plans_csv_response,
    cohort_action_plans_xlsx_response,
    cohort_progress_page_export,
)
from ..selectors import (
    cohort_action_plans,
    cohort_list,
    cohort_participants,
    cohort_progress_report,
    cohort_progress_selection,
    cohort_units,
)
from ..services import (
    cohort_create,
    enrollment_import,
    enrollment_upload_discard,
    enrollment_upload_stage,
    enrollment_upload_take,
)

# The stored key keeps its first spelling, so uploads staged before a deploy can still be confirmed.
UPLOADS_SESSION_KEY = "courses_enrolment_uploads"


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
        {
            "cohort": cohort,
            "page": page,
            "q": search,
            "unit": unit,
            "units": cohort_units(cohort=cohort),
            "actions": cohort_actions(cohort),
        },
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
            result = enrollment_import(cohort=cohort, upload=io.BytesIO(data), name=entry["name"], by=request.user)
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


@operator_required
def operator_progress(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    unit, state = request.GET.get("unit", ""), request.GET.get("state", "")
    file_format = request.GET.get("format")
    if file_format in ("csv", "xlsx"):  # what the table shows: the same filters, in the page's language
        enrollments, keep = cohort_progress_selection(cohort=cohort, unit=unit, state=state)
        return cohort_progress_page_export(cohort=cohort, enrollments=enrollments, keep=keep, file_format=file_format)
    report = cohort_progress_report(cohort=cohort, unit=unit, state=state, sort=request.GET.get("sort", "name"))
    return render(
        request, "courses/operator/progress.html", {"cohort": cohort, "report": report, "columns": progress_columns()}
    )


@operator_required
def operator_action_plans(request: HttpRequest, pk: int) -> HttpResponse:
    """A cohort's submitted action plans, with CSV and XLSX exports (the API's rows)."""
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    export = {"csv": cohort_action_plans_csv_response, "xlsx": cohort_action_plans_xlsx_response}.get(
        request.GET.get("format")
    )
    if export is not None:
        return export(cohort=cohort)
    plans = list(cohort_action_plans(cohort=cohort))
    return render(
        request,
        "courses/operator/action_plans.html",
        {"cohort": cohort, "plans": plans, "participants": cohort.enrollments.count()},
    )
