"""Participants' pages: the catalogue, their dashboard, their course and its lessons."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..errors import ActionPlanClosed, ActionPlanInvalid, ModuleLocked, NotEnrolled
from ..extensions import completion_templates, dashboard_templates
from ..forms import ActionPlanForm
from ..models import Enrollment, Lesson
from ..rendering import markdown_to_html
from ..selectors import (
    LessonAccessReason,
    StepKind,
    course_jp_parts,
    course_list_published,
    course_outline,
    enrollment_action_plan,
    enrollment_next_step,
    enrollments_progress,
    lesson_access,
    lesson_view,
    module_help_needed,
    next_steps,
    participant_enrollments,
    user_is_operator,
)
from ..services import action_plan_submit, lesson_complete


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
    return render(
        request,
        "courses/course_detail.html",
        {"outline": outline, "course": outline.course, "jp_parts": course_jp_parts(course=outline.course)},
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The participant's enrolments with progress; operators go to their cohorts."""
    if not hasattr(request.user, "participant_profile"):
        if user_is_operator(request.user):
            return redirect("courses:operator-cohorts")
        return redirect("courses:home")
    progress = enrollments_progress(participant_enrollments(user=request.user))
    steps = next_steps(progress)
    cards = [{"item": item, "step": steps[item.enrollment.pk]} for item in progress]
    return render(request, "courses/dashboard.html", {"cards": cards, "dashboard_templates": dashboard_templates()})


@login_required
def enrollment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A participant's course: the modules with their state, lessons and quiz."""
    enrollment = get_object_or_404(participant_enrollments(user=request.user), pk=pk)
    (progress,) = enrollments_progress(Enrollment.objects.filter(pk=enrollment.pk))
    step = next_steps([progress])[enrollment.pk]
    outline = course_outline(slug=enrollment.cohort.course.slug, published_only=False)
    done = set(enrollment.lesson_completions.values_list("lesson_id", flat=True))
    modules = [
        {"outline": item, "progress": module_progress}
        for item, module_progress in zip(outline.modules, progress.modules, strict=True)
    ]
    return render(
        request,
        "courses/enrollment_detail.html",
        {
            "progress": progress,
            "modules": modules,
            "done": done,
            "outline": outline,
            "course": outline.course,
            "jp_parts": course_jp_parts(course=outline.course),
            "action_plan": enrollment_action_plan(enrollment=enrollment),
            "step": step,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_plan_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The participant's action plan: the course's instructions and the form (read-only once completed)."""
    enrollment = get_object_or_404(participant_enrollments(user=request.user).select_related("cohort__course"), pk=pk)
    course = enrollment.cohort.course
    if not (course.action_plan_required or course.action_plan_title):
        raise Http404
    plan = enrollment_action_plan(enrollment=enrollment)
    status = 200
    if plan is not None:
        initial = {"change": plan.change, "lead": plan.lead, "due_on": plan.due_on, "indicator": plan.indicator}
    else:
        initial = {}
    form = ActionPlanForm(initial=initial)
    closed = enrollment.completed_at is not None
    if request.method == "POST":
        form = ActionPlanForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                action_plan_submit(enrollment=enrollment, **form.cleaned_data)
            except ActionPlanClosed as exc:
                messages.error(request, str(exc.message))
                status, closed = exc.http_status, True
            except ActionPlanInvalid as exc:
                for field, problems in exc.errors.items():
                    for problem in problems:
                        form.add_error(field, str(problem))
            else:
                enrollment.refresh_from_db(fields=["completed_at"])
                if enrollment.completed_at:  # the guided path goes on to the completion page
                    messages.success(request, _("Your action plan has been submitted and the training is completed."))
                    return redirect("courses:completion", slug=course.slug)
                else:
                    messages.success(
                        request,
                        _("Your action plan has been saved. You can revise it until the training is completed."),
                    )
                return redirect("courses:action-plan", pk=enrollment.pk)
    return render(
        request,
        "courses/action_plan.html",
        {
            "enrollment": enrollment,
            "course": course,
            "instructions_html": markdown_to_html(course.action_plan_instructions),
            "plan": plan,
            "form": form,
            "closed": closed,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def lesson_page(request: HttpRequest, pk: int) -> HttpResponse:
    lesson = get_object_or_404(Lesson.objects.select_related("module__course"), pk=pk)
    access = lesson_access(user=request.user, lesson=lesson)
    if access.reason == LessonAccessReason.UNPUBLISHED:
        raise Http404
    if access.reason == LessonAccessReason.NOT_ENROLLED:
        return render(
            request, "courses/locked.html", {"lesson": lesson, "not_enrolled": True}, status=NotEnrolled.http_status
        )
    if not access.allowed:
        return render(
            request,
            "courses/locked.html",
            {
                "lesson": lesson,
                "enrollment": access.enrollment,
                "step": enrollment_next_step(enrollment=access.enrollment),
            },
            status=ModuleLocked.http_status,
        )
    if request.method == "POST":
        if access.preview:  # read-only: an operator's preview completes nothing
            raise PermissionDenied
        lesson_complete(enrollment=access.enrollment, lesson=lesson)
        if request.POST.get("then") == "next":
            # Whatever comes next: the following lesson, the module's quiz, the completion page.
            return redirect(enrollment_next_step(enrollment=access.enrollment).url)
        return redirect("courses:lesson", pk=lesson.pk)
    view = lesson_view(lesson=lesson, enrollment=access.enrollment)
    step = None
    if access.enrollment is not None and view.completed:
        step = enrollment_next_step(enrollment=access.enrollment)
    return render(request, "courses/lesson.html", {"view": view, "enrollment": access.enrollment, "step": step})


@login_required
def completion(request: HttpRequest, slug: str) -> HttpResponse:
    """The course is completed: the certificate, the credential and what to do with them (other apps' blocks)."""
    enrollment = participant_enrollments(user=request.user).filter(cohort__course__slug=slug).first()
    if enrollment is None:
        raise Http404
    if enrollment.completed_at is None:
        return redirect("courses:enrollment", pk=enrollment.pk)
    (item,) = enrollments_progress(Enrollment.objects.filter(pk=enrollment.pk))
    return render(request, "courses/completion.html", {"item": item, "completion_templates": completion_templates()})


@login_required
def module_help(request: HttpRequest, pk: int, module_pk: int) -> HttpResponse:
    """Out of quiz attempts: what happened, that the operator was told, and whom to contact."""
    enrollment = get_object_or_404(participant_enrollments(user=request.user).select_related("cohort__course"), pk=pk)
    progress = module_help_needed(enrollment=enrollment, module_id=module_pk)
    if progress is None:  # nothing is blocking: back to where the participant goes on
        step = enrollment_next_step(enrollment=enrollment)
        return redirect(step.url if step.kind != StepKind.HELP else reverse("courses:enrollment", args=[pk]))
    return render(
        request,
        "courses/module_help.html",
        {"enrollment": enrollment, "cohort": enrollment.cohort, "progress": progress, "module": progress.module},
    )
