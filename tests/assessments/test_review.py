"""When an attempt's answers may be reviewed: the lessons to revisit while attempts remain, the full review after."""

import re

import pytest

from assessments.models import Attempt, Choice, Question, QuestionKind, ReviewPolicy
from assessments.selectors import ReviewMode, attempt_review_mode
from assessments.services import allowance_grant, attempt_start, attempt_submit
from tests.factories import EnrollmentFactory, LessonFactory, ModuleFactory

from .conftest import build_quiz
from .helpers import move_deadline
from .test_api import walk

pytestmark = pytest.mark.django_db

# Question order → the lesson (by order) it is tied to; question 5 has none.
LESSON_OF_QUESTION = {1: 3, 2: 1, 3: 3, 4: 2, 5: None, 6: 1}


def lesson_quiz(**quiz_fields):
    """A six-question quiz in a module of three lessons; every explanation and choice text is distinct."""
    module = ModuleFactory()
    lessons = {n: LessonFactory(module=module, order=n, title=f"Materi {n}") for n in (1, 2, 3)}
    quiz = build_quiz(questions=6, module=module, **quiz_fields)
    for question in quiz.questions.all():
        lesson = lessons.get(LESSON_OF_QUESTION[question.order])
        Question.objects.filter(pk=question.pk).update(
            lesson=lesson, explanation=f"Penjelasan soal {question.order}: sebab yang tepat."
        )
        for choice in question.choices.all():
            Choice.objects.filter(pk=choice.pk).update(text=f"Pilihan {question.order}-{choice.order}")
    return quiz, lessons


def answers_for(quiz, *, right: set[int] = frozenset()) -> list[dict]:
    """One answer per question: right for the question orders in ``right``, otherwise one wrong choice."""
    answers = []
    for question in quiz.questions.order_by("order").prefetch_related("choices"):
        correct = [c.pk for c in question.choices.all() if c.is_correct]
        wrong = [c.pk for c in question.choices.all() if not c.is_correct]
        answers.append({"question": question.pk, "choices": correct if question.order in right else wrong[:1]})
    return answers


def take(user, quiz, *, right: set[int] = frozenset()) -> Attempt:
    attempt = attempt_start(user=user, quiz=quiz).attempt
    return attempt_submit(attempt=attempt, answers=answers_for(quiz, right=right))


def lesson_items(*lessons) -> list[dict]:
    return [{"id": lesson.pk, "title": lesson.title} for lesson in lessons]


@pytest.fixture
def setup():
    quiz, lessons = lesson_quiz()
    user = EnrollmentFactory(cohort__course=quiz.module.course).participant.user
    return quiz, lessons, user


def api_detail(api_client, user, attempt) -> dict:
    api_client.force_authenticate(user)
    response = api_client.get(f"/api/v1/attempts/{attempt.pk}/")
    assert response.status_code == 200
    return response.json()


def page(client, user, attempt, language="id") -> str:
    client.force_login(user)
    response = client.get(f"/attempts/{attempt.pk}/result/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def assert_no_answer_key(document) -> None:
    """No key that names correctness or an explanation, and choices that are only an id and a text."""
    keys = {key.lower() for _, key, _ in walk(document)}
    assert not any("correct" in key for key in keys), keys
    assert "explanation" not in keys
    choice_objects = [c for _, key, value in walk(document) if key == "choices" for c in value if isinstance(c, dict)]
    assert choice_objects and all(set(choice) == {"id", "text"} for choice in choice_objects)


def assert_page_tells_nothing_per_question(html: str, quiz) -> None:
    """No explanation, no right/wrong marker, no choice (by id or text) anywhere in the page."""
    lowered = html.lower()
    assert "penjelasan soal" not in lowered
    assert "quiz-review" not in html
    assert not re.search(r"<strong>\s*(Benar|Salah|Right|Wrong)\s*</strong>", html)
    assert "✓" not in html and "✗" not in html
    assert "pilihan " not in lowered  # no choice text, chosen or not
    assert "correct" not in lowered
    for choice_id in Choice.objects.filter(question__quiz=quiz).values_list("pk", flat=True):
        assert f'value="{choice_id}"' not in html
        assert f'data-choice="{choice_id}"' not in html
    assert "data-correct" not in html and "data-question" not in html
    assert "<!--" not in html


# --- The attack: everything wrong, read the review, try again -------------------------------------------


def test_a_failed_attempt_with_attempts_left_reveals_no_answer_key(api_client, client, setup):
    quiz, lessons, user = setup
    api_client.force_authenticate(user)
    started = api_client.post(f"/api/v1/quizzes/{quiz.pk}/attempts/").json()
    submitted = api_client.post(
        f"/api/v1/attempts/{started['id']}/submit/", {"answers": answers_for(quiz)}, format="json"
    )
    assert submitted.status_code == 200
    assert submitted.json() == {
        "id": started["id"],
        "status": "submitted",
        "score_percent": 0,
        "passed": False,
        "attempts_left": 2,
    }
    attempt = Attempt.objects.get(pk=started["id"])

    detail = api_detail(api_client, user, attempt)
    assert (detail["review_mode"], detail["score_percent"], detail["passed"], detail["attempts_left"]) == (
        "revisit",
        0,
        False,
        2,
    )
    assert detail["review"] is None
    # Everything wrong, question 5 (tied to no lesson) included: the module's lessons in course order.
    assert detail["revisit_lessons"] == lesson_items(lessons[1], lessons[2], lessons[3])
    body = api_client.get(f"/api/v1/attempts/{attempt.pk}/").content.decode()
    assert "Penjelasan soal" not in body and "is_correct" not in body
    assert_no_answer_key(detail)
    # The participant's own answers are still listed (they know them); nothing marks one as right.
    assert detail["answers"] == answers_for(quiz)

    for language in ("id", "en"):
        assert_page_tells_nothing_per_question(page(client, user, attempt, language), quiz)
    html = page(client, user, attempt)
    assert "0%" in html and "Belum lulus" in html and "nilai lulus 70%" in html and "Sisa 2 kesempatan" in html
    assert "Pelajari kembali materi berikut sebelum mencoba lagi:" in html
    links = re.findall(r'<a href="/lessons/(\d+)/">([^<]+)</a>', html)
    assert links == [(str(lessons[n].pk), f"Materi {n}") for n in (1, 2, 3)]
    assert re.search(
        rf'<form method="post" action="/quizzes/{quiz.pk}/">.*?<button class="btn" type="submit" data-primary-action>Coba lagi',
        html,
        re.S,
    )

    # Nor do the other places a participant can look: the quiz page, the next attempt, the operators' quiz view.
    client.force_login(user)
    quiz_page = client.get(f"/quizzes/{quiz.pk}/").content.decode()
    assert "Penjelasan soal" not in quiz_page and "correct" not in quiz_page.lower()
    operator_view = api_client.get(f"/api/v1/quizzes/{quiz.pk}/")
    assert operator_view.status_code == 403
    assert "is_correct" not in operator_view.content.decode() and "Penjelasan" not in operator_view.content.decode()
    again = api_client.post(f"/api/v1/quizzes/{quiz.pk}/attempts/")
    assert again.status_code == 201 and again.json()["review_mode"] == "none"
    assert_no_answer_key(again.json())
    take_page = client.get(f"/attempts/{again.json()['id']}/").content.decode()
    assert "Penjelasan soal" not in take_page and "correct" not in take_page.lower()
    # The earlier attempt stays closed while the new one is open (no attempt is left, but none is used up).
    assert api_detail(api_client, user, attempt)["review_mode"] == "revisit"
    assert_page_tells_nothing_per_question(page(client, user, attempt), quiz)


def test_the_lessons_to_revisit_are_those_of_the_wrong_answers_once_each_in_course_order(api_client, setup):
    quiz, lessons, user = setup
    # Wrong: 1 (lesson 3), 2 (lesson 1), 3 (lesson 3); right: 4 (lesson 2), 5 (no lesson), 6 (lesson 1).
    attempt = take(user, quiz, right={4, 5, 6})
    detail = api_detail(api_client, user, attempt)
    assert (detail["review_mode"], detail["score_percent"]) == ("revisit", 50)
    assert detail["revisit_lessons"] == lesson_items(lessons[1], lessons[3])


def test_a_wrong_answer_tied_to_no_lesson_points_to_the_whole_module(api_client):
    quiz, lessons = lesson_quiz(pass_mark=90)
    user = EnrollmentFactory(cohort__course=quiz.module.course).participant.user
    attempt = take(user, quiz, right={1, 2, 3, 4, 6})  # only question 5 wrong: 83%, below the 90% mark
    detail = api_detail(api_client, user, attempt)
    assert (detail["review_mode"], detail["score_percent"], detail["passed"]) == ("revisit", 83, False)
    assert detail["revisit_lessons"] == lesson_items(lessons[1], lessons[2], lessons[3])


# --- When the full review opens -------------------------------------------------------------------------


def full_review(quiz, attempt, *, right: set[int]) -> list[dict]:
    questions = {q.pk: q for q in quiz.questions.all()}
    return [
        {
            "question": qid,
            "correct": questions[qid].order in right,
            "explanation": f"Penjelasan soal {questions[qid].order}: sebab yang tepat.",
        }
        for qid in attempt.question_order
    ]


def test_a_pass_opens_the_full_review_of_every_attempt(api_client, client, setup):
    quiz, lessons, user = setup
    failed = take(user, quiz)
    assert api_detail(api_client, user, failed)["review_mode"] == "revisit"
    passed = take(user, quiz, right={1, 2, 3, 4, 5, 6})

    for attempt, right in ((failed, set()), (passed, {1, 2, 3, 4, 5, 6})):
        detail = api_detail(api_client, user, attempt)
        assert detail["review_mode"] == "full"
        assert detail["revisit_lessons"] is None
        assert detail["review"] == full_review(quiz, attempt, right=right)
    html = page(client, user, failed, "en")
    assert html.count("Penjelasan soal") == 6 and html.count("(your answer is wrong)") == 6
    assert "Review these lessons" not in html


def test_the_last_attempt_used_opens_the_full_review(api_client, client, setup):
    quiz, lessons, user = setup
    first = take(user, quiz)
    second = take(user, quiz, right={1})
    assert api_detail(api_client, user, second)["review_mode"] == "revisit"
    third = take(user, quiz, right={1, 2})
    for attempt, right in ((first, set()), (second, {1}), (third, {1, 2})):
        detail = api_detail(api_client, user, attempt)
        assert (detail["review_mode"], detail["attempts_left"], detail["passed"]) == ("full", 0, False)
        assert detail["review"] == full_review(quiz, attempt, right=right)
    html = page(client, user, third)
    assert html.count("Penjelasan soal") == 6
    assert html.count("(jawaban Anda tepat)") == 2 and html.count("(jawaban Anda keliru)") == 4
    assert "Coba lagi" not in html


def test_an_extra_attempt_closes_the_full_review_again_until_it_is_used(api_client, client):
    quiz, lessons = lesson_quiz(max_attempts=1)
    enrollment = EnrollmentFactory(cohort__course=quiz.module.course)
    user = enrollment.participant.user
    first = take(user, quiz)
    assert api_detail(api_client, user, first)["review_mode"] == "full"

    allowance_grant(enrollment=enrollment, quiz=quiz, extra=1, reason="Gangguan jaringan")
    detail = api_detail(api_client, user, first)
    assert (detail["review_mode"], detail["review"], detail["attempts_left"]) == ("revisit", None, 1)
    assert_page_tells_nothing_per_question(page(client, user, first), quiz)

    second = attempt_start(user=user, quiz=quiz).attempt  # open: no attempt left to start, but one in hand
    assert api_detail(api_client, user, first)["review_mode"] == "revisit"
    assert api_detail(api_client, user, second)["review_mode"] == "none"
    attempt_submit(attempt=second, answers=answers_for(quiz, right={1}))
    assert api_detail(api_client, user, first)["review_mode"] == "full"
    assert api_detail(api_client, user, second)["review_mode"] == "full"


def test_a_timed_out_attempt_counts_like_a_failed_one(api_client, client):
    quiz, lessons = lesson_quiz(max_attempts=2, time_limit_minutes=10)
    user = EnrollmentFactory(cohort__course=quiz.module.course).participant.user
    expired = attempt_start(user=user, quiz=quiz).attempt
    move_deadline(expired, seconds_from_now=-3600)
    html = page(client, user, expired)  # the result page closes it
    expired.refresh_from_db()
    assert (expired.status, expired.score_percent) == ("expired", 0)
    assert "Pelajari kembali materi berikut sebelum mencoba lagi:" in html
    assert_page_tells_nothing_per_question(html, quiz)
    assert api_detail(api_client, user, expired)["review_mode"] == "revisit"

    last = attempt_start(user=user, quiz=quiz).attempt
    move_deadline(last, seconds_from_now=-3600)
    page(client, user, last)
    assert api_detail(api_client, user, expired)["review_mode"] == "full"
    assert api_detail(api_client, user, last)["review_mode"] == "full"


# --- Stricter per-quiz settings -------------------------------------------------------------------------


def test_review_after_pass_keeps_the_answers_closed_after_the_last_failed_attempt(api_client, client):
    quiz, lessons = lesson_quiz(max_attempts=1, review=ReviewPolicy.AFTER_PASS)
    enrollment = EnrollmentFactory(cohort__course=quiz.module.course)
    user = enrollment.participant.user
    failed = take(user, quiz, right={4, 5, 6})
    detail = api_detail(api_client, user, failed)
    assert (detail["review_mode"], detail["attempts_left"], detail["quiz"]["review"]) == ("revisit", 0, "after_pass")
    assert detail["revisit_lessons"] == lesson_items(lessons[1], lessons[3])
    html = page(client, user, failed)
    assert_page_tells_nothing_per_question(html, quiz)
    assert "Pelajari kembali materi berikut:" in html and "sebelum mencoba lagi" not in html
    assert "Coba lagi" not in html

    allowance_grant(enrollment=enrollment, quiz=quiz, extra=1)
    take(user, quiz, right={1, 2, 3, 4, 5, 6})
    assert api_detail(api_client, user, failed)["review_mode"] == "full"


def test_a_quiz_without_review_shows_lessons_to_revisit_but_never_the_answers(api_client, client):
    quiz, lessons = lesson_quiz(max_attempts=2, allow_review=False)
    user = EnrollmentFactory(cohort__course=quiz.module.course).participant.user
    failed = take(user, quiz, right={4, 5, 6})
    assert api_detail(api_client, user, failed)["review_mode"] == "revisit"
    passed = take(user, quiz, right={1, 2, 3, 4, 5, 6})
    failed_detail, passed_detail = (api_detail(api_client, user, attempt) for attempt in (failed, passed))
    assert (failed_detail["review_mode"], failed_detail["review"]) == ("revisit", None)
    assert failed_detail["revisit_lessons"] == lesson_items(lessons[1], lessons[3])
    assert (passed_detail["review_mode"], passed_detail["review"], passed_detail["revisit_lessons"]) == (
        "none",
        None,
        None,
    )
    html = page(client, user, passed, "en")
    assert "Penjelasan soal" not in html and "does not show the answers" in html


def test_review_modes_from_the_selector(setup):
    quiz, lessons, user = setup
    attempt = attempt_start(user=user, quiz=quiz).attempt
    assert attempt_review_mode(attempt=attempt) == ReviewMode.NONE
    attempt = attempt_submit(attempt=attempt, answers=answers_for(quiz))
    assert attempt_review_mode(attempt=attempt) == ReviewMode.REVISIT
    take(user, quiz, right={1, 2, 3, 4, 5, 6})
    assert attempt_review_mode(attempt=attempt) == ReviewMode.FULL


@pytest.mark.parametrize("size", [6, 40])
def test_reading_a_graded_attempt_costs_a_fixed_number_of_queries(api_client, size, django_assert_max_num_queries):
    module = ModuleFactory()
    lesson = LessonFactory(module=module)
    quiz = build_quiz(questions=size, module=module, kinds=(QuestionKind.SINGLE,))
    Question.objects.filter(quiz=quiz, order__gt=1).update(lesson=lesson)  # question 1 tied to no lesson
    user = EnrollmentFactory(cohort__course=quiz.module.course).participant.user
    attempt = take(user, quiz)
    api_client.force_authenticate(user)
    # owner lookup, where the enrolment stands at the quiz, questions (with their lessons), choices, answers,
    # the module's lessons (for the question tied to none)
    with django_assert_max_num_queries(6):
        detail = api_client.get(f"/api/v1/attempts/{attempt.pk}/").json()
    assert detail["review_mode"] == "revisit" and detail["revisit_lessons"] == lesson_items(lesson)


def test_the_review_fields_are_in_the_openapi_schema(api_client):
    schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    attempt = schema["components"]["schemas"]["Attempt"]["properties"]
    assert {"review_mode", "revisit_lessons", "review"} <= set(attempt)
    ref = attempt["review_mode"].get("$ref") or attempt["review_mode"]["allOf"][0]["$ref"]
    assert schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["enum"] == ["none", "revisit", "full"]


# --- the wording of the full review and of the instructions -------------------------------------


def worded_quiz(**quiz_fields):
    """A true/false statement that is false, a single-choice and a multiple-answer question, texts as in the curriculum."""
    from tests.factories import ChoiceFactory, QuestionFactory, QuizFactory

    quiz = QuizFactory(module=ModuleFactory(), pass_mark=70, **quiz_fields)
    statement = QuestionFactory(quiz=quiz, order=1, kind=QuestionKind.TRUE_FALSE, text="SPBE hanya urusan Diskominfo.")
    ChoiceFactory(question=statement, order=1, text="Benar", is_correct=False)
    ChoiceFactory(question=statement, order=2, text="Salah", is_correct=True)
    single = QuestionFactory(quiz=quiz, order=2, kind=QuestionKind.SINGLE, text="Siapa GCIO daerah?")
    ChoiceFactory(question=single, order=1, text="Sekretaris Daerah", is_correct=True)
    ChoiceFactory(question=single, order=2, text="Bupati", is_correct=False)
    multiple = QuestionFactory(quiz=quiz, order=3, kind=QuestionKind.MULTIPLE, text="Mana yang termasuk SPBE?")
    for order, (text, correct) in enumerate((("Tata kelola", True), ("Layanan", True), ("Cuti", False)), start=1):
        ChoiceFactory(question=multiple, order=order, text=text, is_correct=correct)
    return quiz


def choice_ids(quiz, *texts) -> list[int]:
    return list(Choice.objects.filter(question__quiz=quiz, text__in=texts).values_list("pk", flat=True))


def submit(user, quiz, chosen: dict[int, list[str]]) -> Attempt:
    attempt = attempt_start(user=user, quiz=quiz).attempt
    answers = [
        {"question": question.pk, "choices": choice_ids(quiz, *chosen[question.order])}
        for question in quiz.questions.order_by("order")
    ]
    return attempt_submit(attempt=attempt, answers=answers)


def test_the_full_review_states_the_statement_the_answer_and_the_right_answer(client):
    quiz = worded_quiz(max_attempts=1)  # the last attempt used: the full review opens
    user = EnrollmentFactory(cohort__course=quiz.module.course).participant.user
    attempt = submit(user, quiz, {1: ["Benar"], 2: ["Sekretaris Daerah"], 3: ["Tata kelola"]})
    assert attempt.passed is False
    html = " ".join(page(client, user, attempt).split())
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    # True/false: what the statement is, what was answered, and a mark that cannot be read as the verdict.
    assert "Pernyataan ini: Salah . Jawaban Anda: Benar ✗ (jawaban Anda keliru)" in text
    # Single choice answered right: ✓, and the right answer stated all the same.
    assert "Jawaban Anda: Sekretaris Daerah ✓ (jawaban Anda tepat) Jawaban yang benar: Sekretaris Daerah" in text
    # Multiple answers, one of two given: wrong, and both right answers named.
    assert "Jawaban Anda: Tata kelola ✗ (jawaban Anda keliru) Jawaban yang benar: Tata kelola; Layanan" in text
    assert text.count("Jawaban yang benar:") == 2  # a true/false statement says it once, as "Pernyataan ini"
    english = " ".join(re.sub(r"<[^>]+>", " ", page(client, user, attempt, "en")).split())
    assert "This statement: Salah . Your answer: Benar ✗ (your answer is wrong)" in english
    assert "Right answers: Tata kelola; Layanan" in english


def test_a_true_statement_answered_right_is_marked_right(client):
    quiz = worded_quiz()
    Choice.objects.filter(question__quiz=quiz, text="Benar").update(is_correct=True)
    Choice.objects.filter(question__quiz=quiz, text="Salah").update(is_correct=False)
    user = EnrollmentFactory(cohort__course=quiz.module.course).participant.user
    attempt = submit(user, quiz, {1: ["Benar"], 2: ["Sekretaris Daerah"], 3: ["Tata kelola", "Layanan"]})
    assert attempt.passed is True
    text = " ".join(re.sub(r"<[^>]+>", " ", page(client, user, attempt)).split())
    assert "Pernyataan ini: Benar . Jawaban Anda: Benar ✓ (jawaban Anda tepat)" in text
    assert "✗" not in text


def test_the_multiple_answer_instruction_is_given_once_per_question_set(client):
    quiz = worded_quiz()
    from tests.factories import ChoiceFactory, QuestionFactory

    another = QuestionFactory(quiz=quiz, order=4, kind=QuestionKind.MULTIPLE, text="Mana yang wajib?")
    ChoiceFactory(question=another, order=1, text="A", is_correct=True)
    ChoiceFactory(question=another, order=2, text="B", is_correct=True)
    user = EnrollmentFactory(cohort__course=quiz.module.course).participant.user
    attempt = attempt_start(user=user, quiz=quiz).attempt
    client.force_login(user)
    html = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert html.count("pilih semua jawaban yang benar") == 1
    assert html.count('<span class="badge">beberapa jawaban</span>') == 2
    assert html.count('aria-describedby="quiz-multiple-hint"') == 2


def test_a_quiz_without_multiple_answers_gives_no_such_instruction(client):
    quiz = build_quiz(questions=2, kinds=(QuestionKind.SINGLE, QuestionKind.TRUE_FALSE))
    user = EnrollmentFactory(cohort__course=quiz.module.course).participant.user
    attempt = attempt_start(user=user, quiz=quiz).attempt
    client.force_login(user)
    html = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "pilih semua jawaban yang benar" not in html and "beberapa jawaban" not in html
