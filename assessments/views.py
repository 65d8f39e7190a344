"""Server-rendered pages of the assessments app: the quiz, taking an attempt, its result."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from courses.errors import DomainError
from courses.models import Enrollment
from courses.permissions import operator_required
from courses.selectors import StepKind, enrollment_next_step, module_access

from .errors import AllowanceInvalid, AlreadySubmitted, AttemptExpired, InvalidAnswer, NotEnrolled
from .models import AttemptStatus, QuestionKind
from .selectors import (
    ReviewMode,
    attempt_detail,
    attempt_for_user,
    attempt_is_past_deadline,
    quiz_get,
    quiz_overview,
    quiz_standing,
)
from .services import (
    allowance_grant_checked,
    answers_save,
    attempt_expire,
    attempt_start,
    attempt_submit,
    help_request_if_out_of_attempts,
)


def _unavailable(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    return render(request, "assessments/unavailable.html", {"message": message}, status=status)


def _api_url(name: str, pk: int) -> str:
    # The API is optional for a host project; without it the pages still work by plain form posts.
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _out_of_attempts_unflagged(attempts_left, attempt_open, passed, step, enrollment, quiz) -> bool:
    """Out of attempts, yet the next step is still this quiz: used up before the "needs help" flag existed.
    Flag it now (idempotent, the operator is told once); True when the step must be read again."""
    if attempts_left or attempt_open or passed or step.kind != StepKind.QUIZ or step.url != _quiz_url(quiz):
        return False
    return help_request_if_out_of_attempts(enrollment_id=enrollment.pk, quiz=quiz)


def _quiz_url(quiz) -> str:
    return reverse("assessments:quiz", args=[quiz.pk])


@login_required
@require_http_methods(["GET", "POST"])
def quiz_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the quiz, the participant's attempts and what is left. POST: start (or resume) and go take it."""
    quiz = quiz_get(quiz_id=pk)
    if quiz is None:
        raise Http404
    if request.method == "POST":
        try:
            started = attempt_start(user=request.user, quiz=quiz)
        except DomainError as exc:
            return _unavailable(request, exc.message, status=exc.http_status)
        return redirect("assessments:attempt", pk=started.attempt.pk)
    access = module_access(user=request.user, module=quiz.module)
    if access.enrollment is None:
        return _unavailable(request, NotEnrolled.message)
    overview = quiz_overview(quiz=quiz, enrollment=access.enrollment)
    passed = any(attempt.passed for attempt in overview.attempts)
    step = enrollment_next_step(enrollment=access.enrollment)
    if _out_of_attempts_unflagged(overview.attempts_left, overview.open_attempt, passed, step, access.enrollment, quiz):
        step = enrollment_next_step(enrollment=access.enrollment)
    return render(
        request,
        "assessments/quiz_detail.html",
        {
            "overview": overview,
            "quiz": quiz,
            "locked": not access.allowed,
            "passed": passed,
            "module": quiz.module,
            "enrollment": access.enrollment,
            # Where the participant goes on once this quiz offers nothing more (passed, or out of attempts).
            "step": step,
        },
    )


def _form_answers(request: HttpRequest, detail: dict) -> list[dict]:
    """The answers of a plain form post: one ``q-<question id>`` field per question (none chosen → [])."""
    answers = []
    for question in detail["questions"]:
        values = request.POST.getlist(f"q-{question['id']}")
        try:
            choices = [int(value) for value in values]
        except ValueError as exc:
            raise InvalidAnswer() from exc
        answers.append({"question": question["id"], "choices": choices})
    return answers


@login_required
@require_http_methods(["GET", "POST"])
def attempt_take(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the questions with the saved answers and the time left. POST: save, or save and submit."""
    attempt = attempt_for_user(user=request.user, attempt_id=pk)
    if attempt is None:
        raise Http404
    if attempt.status != AttemptStatus.IN_PROGRESS or attempt_is_past_deadline(attempt):
        return redirect("assessments:attempt-result", pk=attempt.pk)
    detail = attempt_detail(attempt=attempt)
    if request.method == "POST":
        submit = request.POST.get("action") != "save"
        try:
            answers = _form_answers(request, detail)
            if submit:
                attempt_submit(attempt=attempt, answers=answers)
                return redirect("assessments:attempt-result", pk=attempt.pk)
            answers_save(attempt=attempt, answers=answers)
            messages.success(request, _("Your answers were saved."))
            return redirect("assessments:attempt", pk=attempt.pk)
        except InvalidAnswer as exc:
            messages.error(request, exc.message)
            return redirect("assessments:attempt", pk=attempt.pk)
        except (AlreadySubmitted, AttemptExpired) as exc:
            messages.error(request, exc.message)
            return redirect("assessments:attempt-result", pk=attempt.pk)

    saved = {answer["question"]: set(answer["choices"]) for answer in detail["answers"]}
    questions = [
        {
            "id": question["id"],
            "number": number,
            "text": question["text"],
            "input_type": "checkbox" if question["kind"] == QuestionKind.MULTIPLE else "radio",
            "multiple": question["kind"] == QuestionKind.MULTIPLE,
            "choices": [
                {"id": choice["id"], "text": choice["text"], "checked": choice["id"] in saved.get(question["id"], ())}
                for choice in question["choices"]
            ],
        }
        for number, question in enumerate(detail["questions"], start=1)
    ]
    remaining = None
    if attempt.expires_at is not None:
        remaining = max(0, int((attempt.expires_at - timezone.now()).total_seconds()))
    return render(
        request,
        "assessments/attempt_take.html",
        {
            "attempt": attempt,
            "detail": detail,
            "questions": questions,
            # The instruction for multiple-answer questions is said once, above them all.
            "has_multiple": any(question["multiple"] for question in questions),
            "remaining_seconds": remaining,
            # What the timer shows without JavaScript (minutes:seconds when the page was made).
            "remaining_display": "" if remaining is None else f"{remaining // 60}:{remaining % 60:02d}",
            "save_url": _api_url("api-attempt-answers", attempt.pk),
        },
    )


def _review_item(number: int, question: dict, chosen_ids: set[int], review: dict | None) -> dict:
    """One question of the full review as the page states it: the answer given, whether it was right, and
    the right answer. A true/false question states what the statement is ("This statement: False")."""
    correct_ids = set(review["correct_choices"]) if review else set()
    return {
        "number": number,
        "text": question["text"],
        "kind": question["kind"],
        "true_false": question["kind"] == QuestionKind.TRUE_FALSE,
        "chosen": [c["text"] for c in question["choices"] if c["id"] in chosen_ids],
        "correct_answers": [c["text"] for c in question["choices"] if c["id"] in correct_ids],
        "review": review,
    }


@login_required
@require_http_methods(["GET"])
def attempt_result(request: HttpRequest, pk: int) -> HttpResponse:
    """The score, pass or fail, attempts left and, as ``review_mode`` allows, the lessons to revisit or the review."""
    attempt = attempt_for_user(user=request.user, attempt_id=pk)
    if attempt is None:
        raise Http404
    if attempt.status == AttemptStatus.IN_PROGRESS:
        # The beat sweep would close it within a minute; closing it now shows the result at once.
        if not attempt_expire(attempt=attempt):
            return redirect("assessments:attempt", pk=attempt.pk)
        attempt = attempt_for_user(user=request.user, attempt_id=pk)
    detail = attempt_detail(attempt=attempt)
    questions = []
    if detail["review_mode"] == ReviewMode.FULL:
        # Only the full review lists the questions: in the other modes the page names no answer at all.
        saved = {answer["question"]: set(answer["choices"]) for answer in detail["answers"]}
        review = {item["question"]: item for item in detail["review"]}
        questions = [
            _review_item(number, question, saved.get(question["id"], set()), review.get(question["id"]))
            for number, question in enumerate(detail["questions"], start=1)
        ]
    standing = quiz_standing(enrollment_id=attempt.enrollment_id, quiz=attempt.quiz)
    step = None
    if standing.passed or not standing.attempts_left:  # otherwise the page offers another attempt
        step = enrollment_next_step(enrollment=attempt.enrollment)
        if _out_of_attempts_unflagged(
            standing.attempts_left, standing.attempt_open, standing.passed, step, attempt.enrollment, attempt.quiz
        ):
            step = enrollment_next_step(enrollment=attempt.enrollment)
    return render(
        request,
        "assessments/attempt_result.html",
        {
            "attempt": attempt,
            "detail": detail,
            "questions": questions,
            "module": attempt.quiz.module,
            # Passed (this attempt or another): no retry, the next step instead.
            "quiz_passed": standing.passed,
            "step": step,
        },
    )


@operator_required
@require_http_methods(["POST"])
def operator_grant(request: HttpRequest, pk: int) -> HttpResponse:
    """The grant form of courses' participant page: extra attempts through ``allowance_grant_checked``."""
    enrollment = get_object_or_404(Enrollment.objects.select_related("cohort"), pk=pk)
    back = redirect("courses:operator-participant", pk=enrollment.pk)
    quiz_id, extra = request.POST.get("quiz", ""), request.POST.get("extra_attempts", "")
    quiz = quiz_get(quiz_id=int(quiz_id)) if quiz_id.isdigit() else None
    if quiz is None or not extra.isdigit():
        messages.error(request, _("Choose a quiz and a number of extra attempts."))
        return back
    try:
        allowance_grant_checked(
            enrollment=enrollment,
            quiz=quiz,
            extra=int(extra),
            granted_by=request.user,
            reason=request.POST.get("reason", ""),
        )
    except AllowanceInvalid as exc:
        messages.error(request, str(exc.message))
        return back
    messages.success(
        request,
        ngettext(
            "%(n)d extra attempt granted at “%(quiz)s”.", "%(n)d extra attempts granted at “%(quiz)s”.", int(extra)
        )
        % {"n": int(extra), "quiz": quiz.title},
    )
    return back
