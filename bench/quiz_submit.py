"""Benchmark: grading quiz submissions of a 20-question quiz, through the service and the HTTP endpoint.

Run: .venv/bin/python bench/quiz_submit.py [participants]
Creates (and drops first) the PostgreSQL database ``gcio_bench_quiz`` on BENCH_POSTGRES (default: the
local server), migrates it, builds a course with one 20-question quiz (its module's lessons all done, so
a pass completes the module) and cohorts of participants, then prints:

- the statements of one submit that passes and completes the module (target: at most 12);
- graded submissions per second through ``attempt_submit``;
- ``POST /api/v1/attempts/{id}/submit/`` under 50 concurrent users against gunicorn (2 sync workers,
  DEBUG off, token authentication), for the code before the change and after it, in the same run and
  on the same database, in alternating rounds: p50/p95 of each and the ratio of the p95s (target:
  after at most 0.7 of before). "Before" is the tree of BENCH_BEFORE_REF (default: the merge base of
  HEAD and ``main``), extracted with ``git archive`` into a temporary folder and served by the same
  virtualenv; "after" is this working tree. On ``main`` the merge base is HEAD itself: to compare with the
  first release's quiz submit, run with ``BENCH_BEFORE_REF=35eb351^`` (that tree draws its QR codes with
  segno: ``.venv/bin/pip install segno==1.6.6`` first) and ``BENCH_ROUNDS=4`` for a steadier median.
"""

import datetime
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

# Production-like settings: DEBUG off (no query log), tasks in-process.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
# With DEBUG off WhiteNoise looks for collected static files; the API does not need them.
warnings.filterwarnings("ignore", message="No directory at")

from _http import ROOT, Gunicorn, percentile, run_requests, source_tree  # noqa: E402
from _setup import django_on_bench_database  # noqa: E402

django_on_bench_database("gcio_bench_quiz")

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from assessments.models import Attempt, Choice, Question, QuestionKind, Quiz  # noqa: E402
from assessments.services import attempt_start, attempt_submit  # noqa: E402
from courses.models import (  # noqa: E402
    Cohort,
    Course,
    Enrollment,
    Lesson,
    LessonCompletion,
    Module,
    ParticipantProfile,
    Stage,
)

User = get_user_model()
QUESTIONS = 20
USERS = 50


def build_quiz() -> Quiz:
    course = Course.objects.create(slug="bench", title="Bench", published=True)
    module = Module.objects.create(course=course, key="m1", order=1, stage=Stage.TRANSFORMATION, title="M1")
    Module.objects.create(course=course, key="m2", order=2, stage=Stage.LEADERSHIP, title="M2")
    Lesson.objects.bulk_create(
        [Lesson(module=module, key=f"l{n}", order=n + 1, title=f"Lesson {n}", body="Text.") for n in range(4)]
    )
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
    enrollments = Enrollment.objects.bulk_create([Enrollment(cohort=cohort, participant=p) for p in profiles])
    lessons = list(Lesson.objects.filter(module__course=course, module__order=1))
    LessonCompletion.objects.bulk_create(
        [LessonCompletion(enrollment=e, lesson=lesson) for e in enrollments for lesson in lessons]
    )
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

    # 2. One submit that passes and completes the module: its statements.
    user = participants(quiz.module.course, 1, 20_000 - 1)[0]
    attempt = attempt_start(user=user, quiz=quiz).attempt
    all_right = [{"question": qid, "choices": sorted(key[qid])} for qid in attempt.question_order]
    token = Token.objects.create(user=user)
    cache.clear()  # the content cache cold: the worst case
    with CaptureQueriesContext(connection) as captured:
        response = Client().post(
            f"/api/v1/attempts/{attempt.pk}/submit/",
            {"answers": all_right},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token.key}",
        )
    assert response.status_code == 200 and response.json()["passed"], response.content
    statements = len(captured)
    if os.environ.get("BENCH_SHOW_SQL"):
        print("\n".join(q["sql"][:160] for q in captured.captured_queries))
    print(
        f"one passing, module-completing submit over HTTP, content cache cold: {statements} statements "
        f"including the token look-up (target <= 12; ratio to the target {statements / 12:.2f})"
    )

    # 3. Through the HTTP endpoint under 50 concurrent users, before and after, alternating rounds.
    before_ref = (
        os.environ.get("BENCH_BEFORE_REF")
        or subprocess.run(
            ["git", "merge-base", "HEAD", "main"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    before_tree = source_tree(before_ref)
    trees = {"before": before_tree, "after": ROOT}
    rounds = int(os.environ.get("BENCH_ROUNDS", "2"))
    p95s: dict[str, list[float]] = {"before": [], "after": []}
    p50s: dict[str, list[float]] = {"before": [], "after": []}
    offset = count
    for round_no in range(rounds):
        for label in ("before", "after"):
            offset += count
            users = participants(quiz.module.course, count, offset)
            tokens = {
                t.user_id: t.key
                for t in Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users])
            }
            requests = []
            for n, user in enumerate(users):
                attempt = attempt_start(user=user, quiz=quiz).attempt
                body = json.dumps({"answers": answers_for(attempt, key, kinds, n)}).encode()
                headers = {"Authorization": f"Token {tokens[user.pk]}", "Content-Type": "application/json"}
                requests.append(("POST", f"/api/v1/attempts/{attempt.pk}/submit/", headers, body))
            with Gunicorn(trees[label], workers=2) as server:
                # Warm each worker (imports, connections, caches) outside the timings.
                run_requests(server.base, [("GET", "/livez", {}, None)] * 20, users=4)
                started = time.perf_counter()
                latencies = run_requests(server.base, requests, users=USERS)
                elapsed = time.perf_counter() - started
            p50s[label].append(statistics.median(latencies))
            p95s[label].append(percentile(latencies, 95))
            print(
                f"round {round_no + 1} {label:6}: {len(latencies)} submits, {USERS} concurrent users, "
                f"p50 {p50s[label][-1]:7.1f} ms  p95 {p95s[label][-1]:7.1f} ms  ({len(latencies) / elapsed:.1f} req/s)"
            )
    before_p95, after_p95 = statistics.median(p95s["before"]), statistics.median(p95s["after"])
    print(
        f"http POST /api/v1/attempts/{{id}}/submit/, gunicorn 2 workers, {USERS} users: "
        f"p95 before ({before_ref[:10]}) {before_p95:.1f} ms, after {after_p95:.1f} ms; "
        f"after/before {after_p95 / before_p95:.2f} (target <= 0.70)"
    )
    graded = Attempt.objects.filter(status="submitted").count()
    passed = Attempt.objects.filter(status="submitted", passed=True).count()
    print(f"graded: {graded} attempts, {passed} passed")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
