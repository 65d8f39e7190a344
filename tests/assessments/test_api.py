"""The assessments API: contract shapes, error codes, the permission matrix, no answer leaks, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from assessments.models import Answer, Attempt, AttemptStatus, Quiz
from courses.models import ModuleProgress
from tests.factories import EnrollmentFactory, ModuleFactory, ParticipantProfileFactory

from .conftest import build_quiz, right_answers
from .helpers import move_deadline

pytestmark = pytest.mark.django_db


def start_url(quiz) -> str:
    return f"/api/v1/quizzes/{quiz.pk}/attempts/"


def start(client, quiz) -> dict:
    response = client.post(start_url(quiz))
    assert response.status_code == 201, response.content
    return response.json()


# --- Starting ---------------------------------------------------------------------------------------


def test_start_returns_201_with_the_contract_shape(participant_client, quiz):
    response = participant_client.post(start_url(quiz))
    assert response.status_code == 201
    body = response.json()
    attempt = Attempt.objects.get()
    assert body["id"] == attempt.pk
    assert body["expires_at"] is not None
    assert body["status"] == "in_progress" and body["number"] == 1
    assert body["attempts_left"] == 2
    assert body["answers"] == [] and body["review"] is None
    assert (body["review_mode"], body["revisit_lessons"]) == ("none", None)
    assert body["score_percent"] is None and body["passed"] is None
    assert [q["id"] for q in body["questions"]] == attempt.question_order
    kinds = [q["kind"] for q in body["questions"]]
    assert kinds == ["single", "multiple", "true_false"] * 2
    for question in body["questions"]:
        assert set(question) == {"id", "text", "kind", "choices"}
        assert all(set(choice) == {"id", "text"} for choice in question["choices"])


def test_starting_again_returns_the_same_attempt_with_201(participant_client, quiz):
    first = participant_client.post(start_url(quiz))
    again = participant_client.post(start_url(quiz))
    # The contract fixes 201 for a start, resumed or not; the same id is what tells a resume apart.
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["attempts_left"] == 2
    assert Attempt.objects.count() == 1


def test_no_attempts_left_is_409(participant_client, participant):
    quiz = build_quiz(questions=2, max_attempts=1)
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    attempt_id = start(participant_client, quiz)["id"]
    participant_client.post(f"/api/v1/attempts/{attempt_id}/submit/", {"answers": []}, format="json")
    response = participant_client.post(start_url(quiz), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert response.json() == {"code": "no_attempts_left", "detail": "You have used all your attempts at this quiz."}
    assert Attempt.objects.count() == 1


def test_locked_module_is_403_module_locked(participant_client, quiz):
    later = build_quiz(questions=2, module=ModuleFactory(course=quiz.module.course, order=quiz.module.order + 1))
    response = participant_client.post(start_url(later))
    assert response.status_code == 403
    assert response.json()["code"] == "module_locked"
    assert response.json()["detail"]
    assert not Attempt.objects.exists()


def test_unknown_quiz_is_404(participant_client):
    assert participant_client.post("/api/v1/quizzes/999999/attempts/").status_code == 404


# --- Permission matrix ------------------------------------------------------------------------------


def test_anonymous_gets_401_everywhere(api_client, quiz, participant):
    from assessments.services import attempt_start

    attempt = attempt_start(user=participant, quiz=quiz).attempt
    calls = [
        ("post", start_url(quiz)),
        ("get", f"/api/v1/quizzes/{quiz.pk}/"),
        ("get", f"/api/v1/attempts/{attempt.pk}/"),
        ("put", f"/api/v1/attempts/{attempt.pk}/answers/"),
        ("post", f"/api/v1/attempts/{attempt.pk}/submit/"),
    ]
    for method, url in calls:
        response = getattr(api_client, method)(url, {"answers": []}, format="json")
        assert response.status_code == 401, url
    assert Attempt.objects.count() == 1 and not Answer.objects.exists()


def test_token_authentication_works(api_client, participant, quiz):
    token = Token.objects.create(user=participant)
    response = api_client.post(start_url(quiz), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 201


def test_participant_not_enrolled_gets_403_not_enrolled(api_client, quiz):
    api_client.force_authenticate(ParticipantProfileFactory().user)
    response = api_client.post(start_url(quiz))
    assert response.status_code == 403
    assert response.json()["code"] == "not_enrolled"
    assert not Attempt.objects.exists()


def test_another_participants_attempt_is_404(participant_client, api_client, quiz, other_participant):
    attempt_id = start(participant_client, quiz)["id"]
    api_client.force_authenticate(other_participant)
    assert api_client.get(f"/api/v1/attempts/{attempt_id}/").status_code == 404
    answers = {"answers": right_answers(quiz)}
    assert api_client.put(f"/api/v1/attempts/{attempt_id}/answers/", answers, format="json").status_code == 404
    assert api_client.post(f"/api/v1/attempts/{attempt_id}/submit/", answers, format="json").status_code == 404
    assert not Answer.objects.exists()
    assert Attempt.objects.get().status == AttemptStatus.IN_PROGRESS


def test_operator_sees_the_quiz_with_its_answer_key(api_client, operator, quiz):
    api_client.force_authenticate(operator)
    response = api_client.get(f"/api/v1/quizzes/{quiz.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "title", "pass_mark", "max_attempts", "time_limit_minutes")} == {
        "id": quiz.pk,
        "title": "Quiz",
        "pass_mark": 70,
        "max_attempts": 3,
        "time_limit_minutes": 10,
    }
    questions = list(quiz.questions.order_by("order").prefetch_related("choices"))
    assert [q["id"] for q in body["questions"]] == [q.pk for q in questions]
    first = questions[0]
    assert body["questions"][0]["kind"] == "single"
    assert body["questions"][0]["choices"] == [
        {"id": c.pk, "text": c.text, "is_correct": c.is_correct} for c in first.choices.order_by("order")
    ]


def test_superuser_is_an_operator(api_client, admin_user, quiz):
    api_client.force_authenticate(admin_user)
    assert api_client.get(f"/api/v1/quizzes/{quiz.pk}/").status_code == 200
    assert api_client.get("/api/v1/quizzes/999999/").status_code == 404


def test_participants_get_403_on_the_operator_quiz_view(participant_client, quiz):
    response = participant_client.get(f"/api/v1/quizzes/{quiz.pk}/")
    assert response.status_code == 403
    assert "is_correct" not in response.content.decode()


# --- Saving answers ---------------------------------------------------------------------------------


def test_put_answers_saves_only_the_questions_given(participant_client, quiz):
    body = start(participant_client, quiz)
    url = f"/api/v1/attempts/{body['id']}/answers/"
    q1, q2 = body["questions"][0], body["questions"][1]
    first = {"question": q1["id"], "choices": [q1["choices"][0]["id"]]}
    response = participant_client.put(url, {"answers": [first]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"id": body["id"], "answers": [first]}
    second = {"question": q2["id"], "choices": [q2["choices"][0]["id"], q2["choices"][2]["id"]]}
    response = participant_client.put(url, {"answers": [second]}, format="json")
    assert response.json()["answers"] == [first, second]
    assert participant_client.get(f"/api/v1/attempts/{body['id']}/").json()["answers"] == [first, second]


def test_put_answers_with_a_foreign_choice_is_400_and_writes_nothing(participant_client, quiz):
    body = start(participant_client, quiz)
    q1, q2 = body["questions"][0], body["questions"][1]
    answers = [
        {"question": q2["id"], "choices": [q2["choices"][0]["id"]]},
        {"question": q1["id"], "choices": [q2["choices"][1]["id"]]},
    ]
    response = participant_client.put(
        f"/api/v1/attempts/{body['id']}/answers/", {"answers": answers}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_answer",
        "detail": f"A chosen answer does not belong to question {q1['id']}.",
    }
    assert not Answer.objects.exists()


def test_put_answers_with_a_malformed_body_is_400(participant_client, quiz):
    body = start(participant_client, quiz)
    url = f"/api/v1/attempts/{body['id']}/answers/"
    assert participant_client.put(url, {"answers": [{"question": "x"}]}, format="json").status_code == 400
    assert participant_client.put(url, {}, format="json").status_code == 400
    assert not Answer.objects.exists()


def test_put_answers_after_the_deadline_is_409_expired(participant_client, quiz):
    body = start(participant_client, quiz)
    move_deadline(Attempt.objects.get(pk=body["id"]), seconds_from_now=-3600)
    response = participant_client.put(
        f"/api/v1/attempts/{body['id']}/answers/", {"answers": right_answers(quiz)}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "expired"
    assert not Answer.objects.exists()
    assert Attempt.objects.get().status == AttemptStatus.EXPIRED


# --- Submitting ---------------------------------------------------------------------------------------


def test_submit_returns_score_passed_and_attempts_left(participant_client, enrollment, quiz):
    body = start(participant_client, quiz)
    response = participant_client.post(
        f"/api/v1/attempts/{body['id']}/submit/", {"answers": right_answers(quiz, wrong=1)}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": body["id"],
        "status": "submitted",
        "score_percent": 83,
        "passed": True,
        "attempts_left": 2,
    }
    assert ModuleProgress.objects.get(enrollment=enrollment).best_score == 83


def test_submit_without_a_body_grades_the_saved_answers(participant_client, quiz):
    body = start(participant_client, quiz)
    participant_client.put(f"/api/v1/attempts/{body['id']}/answers/", {"answers": right_answers(quiz)}, format="json")
    response = participant_client.post(f"/api/v1/attempts/{body['id']}/submit/")
    assert response.status_code == 200
    assert response.json()["score_percent"] == 100


def test_a_second_submit_is_409_already_submitted(participant_client, quiz):
    body = start(participant_client, quiz)
    url = f"/api/v1/attempts/{body['id']}/submit/"
    assert participant_client.post(url, {"answers": right_answers(quiz, wrong=6)}, format="json").status_code == 200
    response = participant_client.post(url, {"answers": right_answers(quiz)}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_submitted"
    assert Attempt.objects.get().score_percent == 0


def test_a_late_submit_is_409_expired_and_graded_as_it_stood(participant_client, quiz):
    body = start(participant_client, quiz)
    participant_client.put(
        f"/api/v1/attempts/{body['id']}/answers/", {"answers": right_answers(quiz)[:6]}, format="json"
    )
    move_deadline(Attempt.objects.get(pk=body["id"]), seconds_from_now=-3600)
    response = participant_client.post(
        f"/api/v1/attempts/{body['id']}/submit/", {"answers": right_answers(quiz, wrong=6)}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "expired"
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.score_percent, attempt.passed) == ("expired", 100, True)
    detail = participant_client.get(f"/api/v1/attempts/{body['id']}/").json()
    assert (detail["status"], detail["score_percent"]) == ("expired", 100)


def test_submit_with_a_foreign_choice_is_400_and_writes_nothing(participant_client, quiz):
    body = start(participant_client, quiz)
    other = build_quiz(questions=1).questions.get()
    answers = [*right_answers(quiz)[:2], {"question": other.pk, "choices": [other.choices.first().pk]}]
    response = participant_client.post(f"/api/v1/attempts/{body['id']}/submit/", {"answers": answers}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_answer"
    assert not Answer.objects.exists()
    assert Attempt.objects.get().status == AttemptStatus.IN_PROGRESS
    assert not ModuleProgress.objects.exists()


# --- Reading an attempt ---------------------------------------------------------------------------------


def test_a_failed_attempt_with_attempts_left_shows_the_score_and_no_review(participant_client, quiz):
    body = start(participant_client, quiz)
    answers = right_answers(quiz, wrong=2)
    participant_client.post(f"/api/v1/attempts/{body['id']}/submit/", {"answers": answers}, format="json")
    detail = participant_client.get(f"/api/v1/attempts/{body['id']}/").json()
    assert (detail["status"], detail["score_percent"], detail["passed"], detail["attempts_left"]) == (
        "submitted",
        67,
        False,
        2,
    )
    assert detail["submitted_at"] is not None
    # The fixture's module has no lessons: nothing to point to, and still no answer key.
    assert (detail["review_mode"], detail["review"], detail["revisit_lessons"]) == ("revisit", None, [])
    assert detail["answers"] == answers  # not shuffled: the authored order, which is also id order here


def test_the_last_attempt_used_shows_score_and_full_review(participant_client, quiz):
    Quiz.objects.filter(pk=quiz.pk).update(max_attempts=1)
    body = start(participant_client, quiz)
    answers = right_answers(quiz, wrong=2)
    participant_client.post(f"/api/v1/attempts/{body['id']}/submit/", {"answers": answers}, format="json")
    detail = participant_client.get(f"/api/v1/attempts/{body['id']}/").json()
    assert (detail["score_percent"], detail["passed"], detail["attempts_left"]) == (67, False, 0)
    wrong_ids = {a["question"] for a in answers[:2]}
    assert (detail["review_mode"], detail["revisit_lessons"]) == ("full", None)
    assert detail["review"] == [
        {"question": q["id"], "correct": q["id"] not in wrong_ids, "explanation": "Because."} for q in body["questions"]
    ]


def test_no_review_when_the_quiz_does_not_allow_it(participant_client, participant):
    quiz = build_quiz(questions=3, allow_review=False)
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    body = start(participant_client, quiz)
    participant_client.post(f"/api/v1/attempts/{body['id']}/submit/", {"answers": right_answers(quiz)}, format="json")
    detail = participant_client.get(f"/api/v1/attempts/{body['id']}/")
    assert detail.json()["review"] is None
    assert detail.json()["score_percent"] == 100
    assert "Because." not in detail.content.decode()


# --- Nothing reveals an answer before submitting ------------------------------------------------------------


def walk(value, path=""):
    """Yield (path, key, value) for every key of every dict in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, f"{path}[]")


def assert_no_answer_key(document, correct_ids: set[int], choice_ids: set[int]) -> None:
    keys = {key.lower() for _, key, _ in walk(document)}
    assert not any("correct" in key for key in keys), keys
    assert "explanation" not in keys
    # Every choice object: the same keys, and apart from its id nothing that tells right from wrong.
    choices = [item for path, key, items in walk(document) if key == "choices" for item in items]
    choice_objects = [c for c in choices if isinstance(c, dict)]
    for choice in choice_objects:
        assert set(choice) == {"id", "text"}
    right = [{k: v for k, v in c.items() if k != "id"} for c in choice_objects if c["id"] in correct_ids]
    wrong = [{k: v for k, v in c.items() if k != "id"} for c in choice_objects if c["id"] not in correct_ids]
    if right and wrong:
        assert all(r == wrong[0] for r in right + wrong)
    assert {c["id"] for c in choice_objects} <= choice_ids


def test_no_participant_response_before_submitting_reveals_a_correct_choice(participant_client, quiz):
    from assessments.models import Choice

    correct_ids = set(Choice.objects.filter(question__quiz=quiz, is_correct=True).values_list("pk", flat=True))
    all_ids = set(Choice.objects.filter(question__quiz=quiz).values_list("pk", flat=True))
    assert correct_ids and all_ids - correct_ids

    created = participant_client.post(start_url(quiz))
    attempt_id = created.json()["id"]
    responses = [
        created,
        participant_client.post(start_url(quiz)),  # resumed
        participant_client.get(f"/api/v1/attempts/{attempt_id}/"),
        participant_client.put(
            f"/api/v1/attempts/{attempt_id}/answers/", {"answers": right_answers(quiz, wrong=3)}, format="json"
        ),
        participant_client.get(f"/api/v1/attempts/{attempt_id}/"),
        participant_client.put(  # an invalid save: the error must not hint either
            f"/api/v1/attempts/{attempt_id}/answers/",
            {"answers": [{"question": min(all_ids) * 1000, "choices": []}]},
            format="json",
        ),
        participant_client.get(f"/api/v1/quizzes/{quiz.pk}/"),  # the operator view, refused
        participant_client.get(f"/api/v1/courses/{quiz.module.course.slug}/"),
    ]
    for response in responses:
        assert response.status_code in (200, 201, 400, 403), response.content
        assert "is_correct" not in response.content.decode()
        assert "explanation" not in response.content.decode()
        assert_no_answer_key(response.json(), correct_ids, all_ids)


# --- Query counts -------------------------------------------------------------------------------------------


def submit_queries(client, participant, questions: int) -> int:
    quiz = build_quiz(questions=questions)
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    body = start(client, quiz)
    answers = right_answers(quiz, wrong=questions // 3)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/attempts/{body['id']}/submit/", {"answers": answers}, format="json")
    assert response.status_code == 200
    return len(queries)


# Measured: 7 of the assessments app (owner lookup, row lock, the answer key, one upsert of all answers, the
# saved answers, one conditional update, attempts left), 13 of courses' quiz_result_record on a pass that
# completes the module and the course, and 5 savepoint statements (the test runs inside a transaction).
SUBMIT_MAX_QUERIES = 25


def test_submit_costs_a_fixed_number_of_queries_whatever_the_quiz_size(
    api_client, participant, django_assert_max_num_queries
):
    api_client.force_authenticate(participant)
    small = submit_queries(api_client, participant, 6)
    large = submit_queries(api_client, participant, 40)
    assert small == large
    for size in (6, 40):
        quiz = build_quiz(questions=size)
        EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
        body = start(api_client, quiz)
        answers = right_answers(quiz)
        with django_assert_max_num_queries(SUBMIT_MAX_QUERIES):
            response = api_client.post(f"/api/v1/attempts/{body['id']}/submit/", {"answers": answers}, format="json")
        assert response.json()["score_percent"] == 100


@pytest.mark.parametrize("size", [6, 40])
def test_start_read_and_save_cost_a_fixed_number_of_queries(
    participant, api_client, size, django_assert_max_num_queries
):
    quiz = build_quiz(questions=size)
    EnrollmentFactory(participant=participant.participant_profile, cohort__course=quiz.module.course)
    api_client.force_authenticate(participant)
    answers = right_answers(quiz)
    # start: quiz, module access (3), open attempt, count, allowance, the drawn order (2), the insert in a
    # savepoint (3), then the attempt as in a read (4)
    with django_assert_max_num_queries(16):
        attempt_id = start(api_client, quiz)["id"]
    # read: owner lookup, questions, choices, answers, attempts left
    with django_assert_max_num_queries(5):
        assert api_client.get(f"/api/v1/attempts/{attempt_id}/").status_code == 200
    # save: owner lookup, savepoint, row lock, kinds, one upsert, release, saved answers
    with django_assert_max_num_queries(7):
        response = api_client.put(f"/api/v1/attempts/{attempt_id}/answers/", {"answers": answers}, format="json")
    assert response.status_code == 200
    api_client.force_authenticate(None)


def test_operator_quiz_view_costs_a_fixed_number_of_queries(api_client, operator, django_assert_max_num_queries):
    quiz = build_quiz(questions=40)
    api_client.force_authenticate(operator)
    with django_assert_max_num_queries(4):
        assert api_client.get(f"/api/v1/quizzes/{quiz.pk}/").status_code == 200


# --- Schema ---------------------------------------------------------------------------------------------------


def test_the_endpoints_are_in_the_openapi_schema(api_client):
    schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/quizzes/{id}/attempts/"]["post"]["responses"]) == {
        "201", "400", "401", "403", "404", "406", "409"
    }  # fmt: skip
    assert "get" in paths["/api/v1/quizzes/{id}/"]
    assert "get" in paths["/api/v1/attempts/{id}/"]
    assert "post" in paths["/api/v1/attempts/{id}/submit/"]
    put = paths["/api/v1/attempts/{id}/answers/"]["put"]
    assert "requestBody" in put
    assert {"200", "400", "409"} <= set(put["responses"])
