"""Benchmark: grading quiz submissions of a 20-question quiz, through the service and the HTTP endpoint.

Run: .venv/bin/python bench/quiz_submit.py [participants]
Creates (and drops first) the PostgreSQL database ``gcio_bench_quiz`` on BENCH_POSTGRES (default: the
local server), migrates it, builds a course with one 20-question quiz and a cohort of participants, then
prints graded submissions per second through ``attempt_submit`` and the p50/p95 latency of
``POST /api/v1/attempts/{id}/submit/`` (Django's test client in-process, token authentication, DEBUG off).
"""

import datetime
import os
import statistics
import sys
import time
import warnings

# Production-like settings: DEBUG off (no query log), tasks in-process.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
# With DEBUG off WhiteNoise looks for collected static files; the API does not need them.
warnings.filterwarnings("ignore", message="No directory at")

from _setup import django_on_bench_database  # noqa: E402

django_on_bench_database("gcio_bench_quiz")

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from assessments.models import Attempt, Choice, Question, QuestionKind, Quiz  # noqa: E402
from assessments.services import attempt_start, attempt_submit  # noqa: E402
from courses.models import Cohort, Course, Enrollment, Module, ParticipantProfile, Stage  # noqa: E402

User = get_user_model()
QUESTIONS = 20


def build_quiz() -> Quiz:
    course = Course.objects.create(slug="bench", title="Bench", published=True)
    module = Module.objects.create(course=course, key="m1", order=1, stage=Stage.TRANSFORMATION, title="M1")
    Module.objects.create(course=course, key="m2", order=2, stage=Stage.LEADERSHIP, title="M2")
    quiz = Quiz.objects.create(
        module=module, title="Bench quiz", pass_mark=70, max_attempts=3, time_limit_minutes=30, shuffle_choices=True
    )
    kinds = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE)
    for n in range(QUESTIONS):
        kind = kinds[n % 3]
        question = Question.objects.create(
            quiz=quiz, key=f"q{n}", order=n + 1, kind=kind, text=f"Question {n}?", explanation="Because."
        )
        count = 2 if kind == QuestionKind.TRUE_FALSE else 4
        correct = {0, 2} if kind == QuestionKind.MULTIPLE else {n % count}
        Choice.objects.bulk_create(
            [
                Choice(question=question, key=f"c{c}", order=c + 1, text=f"Choice {c}", is_correct=c in correct)
                for c in range(count)
            ]
        )
    return quiz


def participants(course: Course, count: int, offset: int) -> list:
    cohort = Cohort.objects.create(
        course=course, name=f"Bench {offset}", starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 6, 1)
    )
    password = make_password(None)
    # Valid NIPs: born 1980-MM-DD, appointed 2005-01, sex 1, a serial; unique below 12,000 participants.
    nips = [
        f"1980{1 + (offset + n) // 1000 % 12:02d}{1 + (offset + n) % 28:02d}2005011{(offset + n) % 1000:03d}"
        for n in range(count)
    ]
    users = User.objects.bulk_create([User(username=nip, password=password) for nip in nips])
    profiles = ParticipantProfile.objects.bulk_create(
        [ParticipantProfile(user=u, nip=u.username, full_name=f"Peserta {u.username[-6:]}") for u in users]
    )
    Enrollment.objects.bulk_create([Enrollment(cohort=cohort, participant=p) for p in profiles])
    return users


def answers_for(attempt: Attempt, key: dict[int, set[int]], kinds: dict[int, str], n: int) -> list[dict]:
    """Every question answered; every third to sixth one wrong, so some participants pass and some fail."""
    answers = []
    for index, qid in enumerate(attempt.question_order):
        offered = attempt.choice_order[str(qid)]
        if (index + n) % (3 + n % 4) == 0:
            wrong = [c for c in offered if c not in key[qid]]
            choices = wrong[:1]
        else:
            choices = sorted(key[qid]) if kinds[qid] == QuestionKind.MULTIPLE else sorted(key[qid])[:1]
        answers.append({"question": qid, "choices": choices})
    return answers


def main(count: int) -> None:
    quiz = build_quiz()
    key: dict[int, set[int]] = {}
    for qid, cid in Choice.objects.filter(question__quiz=quiz, is_correct=True).values_list("question_id", "pk"):
        key.setdefault(qid, set()).add(cid)
    kinds = dict(Question.objects.filter(quiz=quiz).values_list("pk", "kind"))

    # 1. Through the service.
    users = participants(quiz.module.course, count, 0)
    work = []
    for n, user in enumerate(users):
        attempt = attempt_start(user=user, quiz=quiz).attempt
        work.append((attempt, answers_for(attempt, key, kinds, n)))
    started = time.perf_counter()
    for attempt, answers in work:
        attempt_submit(attempt=attempt, answers=answers)
    elapsed = time.perf_counter() - started
    print(f"quiz: {QUESTIONS} questions, {count} participants per run, PostgreSQL {connection.pg_version}")
    print(
        f"service  attempt_submit: {count / elapsed:8.1f} graded submissions/s  ({elapsed * 1000 / count:.2f} ms each)"
    )

    # 2. Through the HTTP endpoint.
    users = participants(quiz.module.course, count, count)
    tokens = {
        t.user_id: t.key for t in Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users])
    }
    client = Client()
    timings = []
    for n, user in enumerate(users):
        attempt = attempt_start(user=user, quiz=quiz).attempt
        body = {"answers": answers_for(attempt, key, kinds, n)}
        url = f"/api/v1/attempts/{attempt.pk}/submit/"
        auth = {"HTTP_AUTHORIZATION": f"Token {tokens[user.pk]}"}
        if n == 0:  # count the queries once, outside the timings (capturing slows the cursor)
            with CaptureQueriesContext(connection) as captured:
                response = client.post(url, body, content_type="application/json", **auth)
            queries = len(captured)
        else:
            t0 = time.perf_counter()
            response = client.post(url, body, content_type="application/json", **auth)
            timings.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.content
    timings_ms = sorted(t * 1000 for t in timings)
    p50 = statistics.median(timings_ms)
    p95 = timings_ms[int(0.95 * (len(timings_ms) - 1))]
    print(
        f"http     POST /api/v1/attempts/{{id}}/submit/: p50 {p50:.2f} ms  p95 {p95:.2f} ms  "
        f"max {timings_ms[-1]:.2f} ms  ({len(timings_ms) * 1000 / sum(timings_ms):.1f} req/s)  {queries} queries each"
    )
    graded = Attempt.objects.filter(status="submitted").count()
    passed = Attempt.objects.filter(status="submitted", passed=True).count()
    print(f"graded: {graded} attempts, {passed} passed")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
