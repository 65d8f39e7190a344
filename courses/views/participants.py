"""Operators' pages for a cohort's participants: the list with its flags and bulk actions, one
participant's record and actions, and the audit log."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ..errors import ParticipantInvalid
from ..extensions import participant_templates
from ..forms import ParticipantCorrectForm, ParticipantRemoveForm
from ..models import Cohort
from ..permissions import operator_required
from ..selectors import (
    FLAGS,
    audit_entries,
    cohort_messages_today,
    cohort_participants_overview,
    participant_detail_enrollment,
    participant_record,
)
from ..services import (
    cohort_reminders_switch,
    enrollment_remove,
    invitations_resend,
    participant_correct,
    reminders_send,
)


def _flag_labels() -> dict[str, str]:
    return {
        "not_started": _("Not started"),
        "behind_pace": _("Behind pace"),
        "out_of_attempts": _("Out of attempts"),
        "completed": _("Completed"),
    }


@operator_required
def operator_participants(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    overview = cohort_participants_overview(cohort=cohort, flag=request.GET.get("flag", ""))
    labels = _flag_labels()
    chips = [{"flag": flag, "label": labels[flag], "count": overview.counts[flag]} for flag in FLAGS]
    page = Paginator(overview.rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "courses/operator/participants.html",
        {
            "cohort": cohort,
            "overview": overview,
            "chips": chips,
            "labels": labels,
            "page": page,
            "sending": cohort_messages_today(cohort=cohort),
        },
    )


@operator_required
@require_POST
def operator_invitations_resend(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort, pk=pk)
    ids = [int(v) for v in request.POST.getlist("enrollment") if v.isdigit()]
    queued = invitations_resend(cohort=cohort, by=request.user, enrollment_ids=ids or None)
    messages.success(
        request,
        ngettext(
            "%(n)d invitation queued (people who got one today are skipped).",
            "%(n)d invitations queued (people who got one today are skipped).",
            queued,
        )
        % {"n": queued},
    )
    return _back(request, reverse("courses:operator-participants", args=[cohort.pk]))


@operator_required
@require_POST
def operator_reminders_send(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort, pk=pk)
    queued = reminders_send(cohort=cohort, by=request.user)
    messages.success(
        request,
        ngettext(
            "%(n)d reminder queued (people who got one today are skipped).",
            "%(n)d reminders queued (people who got one today are skipped).",
            queued,
        )
        % {"n": queued},
    )
    return redirect("courses:operator-participants", pk=cohort.pk)


@operator_required
@require_POST
def operator_reminders_switch(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort, pk=pk)
    enabled = request.POST.get("enabled") == "1"
    cohort_reminders_switch(cohort=cohort, enabled=enabled, by=request.user)
    messages.success(request, _("Scheduled reminders are on.") if enabled else _("Scheduled reminders are off."))
    return redirect("courses:operator-participants", pk=cohort.pk)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


def _enrollment_or_404(pk: int):
    enrollment = participant_detail_enrollment(pk=pk)
    if enrollment is None:
        from django.http import Http404

        raise Http404
    return enrollment


@operator_required
def operator_participant(request: HttpRequest, pk: int) -> HttpResponse:
    enrollment = _enrollment_or_404(pk)
    profile = enrollment.participant
    correct_form = ParticipantCorrectForm(
        request.POST if request.method == "POST" else None,
        initial={"full_name": profile.full_name, "position": profile.position, "unit": profile.unit},
    )
    status = 200
    if request.method == "POST":
        if enrollment.removed_at is not None:
            messages.error(request, _("This participant has been removed from the cohort."))
            return redirect("courses:operator-participant", pk=enrollment.pk)
        if correct_form.is_valid():
            try:
                changes = participant_correct(enrollment=enrollment, by=request.user, **correct_form.cleaned_data)
            except ParticipantInvalid as exc:
                correct_form.add_error(exc.field if exc.field in correct_form.fields else None, str(exc.message))
            else:
                messages.success(request, _("Details corrected.") if changes else _("Nothing to change."))
                return redirect("courses:operator-participant", pk=enrollment.pk)
        status = 400
    record = participant_record(enrollment=enrollment)
    return render(
        request,
        "courses/operator/participant.html",
        {
            "enrollment": enrollment,
            "cohort": enrollment.cohort,
            "profile": profile,
            "record": record,
            "row": record.row,
            "labels": _flag_labels(),
            "correct_form": correct_form,
            "remove_form": ParticipantRemoveForm(),
            "extension_templates": participant_templates(),
        },
        status=status,
    )


@operator_required
@require_POST
def operator_participant_remove(request: HttpRequest, pk: int) -> HttpResponse:
    enrollment = _enrollment_or_404(pk)
    form = ParticipantRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the participant is removed."))
        return redirect("courses:operator-participant", pk=enrollment.pk)
    if enrollment_remove(enrollment=enrollment, by=request.user, reason=form.cleaned_data["reason"]):
        messages.success(
            request, _("%(name)s was removed from the cohort; the record is kept.") % {"name": enrollment.participant}
        )
    return redirect("courses:operator-participants", pk=enrollment.cohort_id)


@operator_required
def operator_cohort_audit(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    page = Paginator(audit_entries(cohort=cohort), 100).get_page(request.GET.get("page"))
    return render(request, "courses/operator/audit.html", {"cohort": cohort, "page": page})
