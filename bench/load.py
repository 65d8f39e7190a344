"""Load benchmark: 50 concurrent participants reading, taking quizzes and verifying certificates.

Run: .venv/bin/python bench/load.py [--users 50] [--duration 60]
Starts gunicorn with docker-compose.yml's own web command (5 workers) on a throw-away PostgreSQL database,
then runs an asyncio client (aiohttp, whose C parser leaves the CPU to the server): each virtual participant loops over reading a lesson,
marking it done, starting a quiz attempt, submitting it, verifying a certificate, and calling a
trivial JSON view (/livez) measured the same way, pausing about a second between requests as a
(very quick) person would. Prints per-endpoint requests/s, p50/p95/p99 and
errors; then saturates the trivial view and the verification endpoint alone for a few seconds each
and prints their throughput ratio (the figure that holds across machines).
Targets: zero errors; quiz submit and verification p95 under 100 ms; verification at least half
the trivial view's throughput. Exit status 1 when any request failed.
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def prepare(users: int) -> dict:
    # Imported here, once main() has set Django up: importing this module (as its tests do) stays free of it.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from assessments.models import Choice, Quiz
    from certificates.codes import code_display
    from certificates.services import certificate_issue
    from courses.models import Cohort, Course, Enrollment, ParticipantProfile
    from tests.courses.enrollment_files import nip_for

    call_command("loadcurriculum", verbosity=0)
    course = Course.objects.get(slug="gcio")
    module = course.modules.order_by("order").first()
    quiz = Quiz.objects.get(module=module)
    lessons = list(module.lessons.order_by("order").values_list("pk", flat=True))
    key = {question_id: set() for question_id in quiz.questions.values_list("pk", flat=True)}
    for question_id, choice_id in Choice.objects.filter(question__quiz=quiz, is_correct=True).values_list(
        "question_id", "pk"
    ):
        key[question_id].add(choice_id)

    cohort = Cohort.objects.create(
        course=course, name="Beban", starts_on=timezone.localdate(), ends_on=timezone.localdate()
    )
    password = make_password(None)
    people = get_user_model().objects.bulk_create(
        [get_user_model()(username=nip_for(n), password=password) for n in range(users * 2)]
    )
    profiles = ParticipantProfile.objects.bulk_create(
        [ParticipantProfile(user=u, nip=u.username, full_name=f"Peserta {n}") for n, u in enumerate(people)]
    )
    enrollments = Enrollment.objects.bulk_create([Enrollment(cohort=cohort, participant=p) for p in profiles])
    # The second half finished earlier: their certificates are what the load verifies.
    finished = enrollments[users:]
    Enrollment.objects.filter(pk__in=[e.pk for e in finished]).update(completed_at=timezone.now())
    codes = [code_display(certificate_issue(enrollment_id=e.pk).code) for e in finished]
    tokens = [Token.objects.create(user=u).key for u in people[:users]]
    return {"quiz": quiz.pk, "lessons": lessons, "key": key, "codes": codes, "tokens": tokens}


class Recorder:
    def __init__(self):
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    async def call(self, client: aiohttp.ClientSession, name: str, method: str, url: str, ok=(200, 201), **kwargs):
        """One request; returns its JSON body, or None after recording an error."""
        started = time.perf_counter()
        try:
            async with client.request(method, url, **kwargs) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.errors[name].append(repr(exc))
            return None
        self.latencies[name].append(time.perf_counter() - started)
        if status not in ok:
            self.errors[name].append(f"{status} {body[:120]!r}")
            return None
        return body


def session(base: str, headers: dict | None = None) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(base_url=base, headers=headers or {}, timeout=aiohttp.ClientTimeout(total=30))


async def participant(
    base: str, token: str, plan: dict, recorder: Recorder, deadline: float, seed: int, think: float
) -> None:
    rng = random.Random(seed)

    async def pause():
        # A person pauses between actions (reading, choosing answers): on average ``think`` seconds.
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think)

    async with session(base, {"Authorization": f"Token {token}"}) as client, session(base) as anonymous:
        await asyncio.sleep(rng.uniform(0, 5))  # participants arrive over the first five seconds
        while time.perf_counter() < deadline:
            lesson = rng.choice(plan["lessons"])
            await pause()
            await recorder.call(client, "GET lesson", "GET", f"/api/v1/lessons/{lesson}/")
            await pause()
            await recorder.call(client, "POST lesson complete", "POST", f"/api/v1/lessons/{lesson}/complete/")
            await pause()
            attempt = await recorder.call(
                client, "POST quiz start", "POST", f"/api/v1/quizzes/{plan['quiz']}/attempts/"
            )
            if attempt is not None:
                body = json.loads(attempt)
                answers = []
                for question in body["questions"]:
                    right = sorted(plan["key"][question["id"]])
                    wrong = [c["id"] for c in question["choices"] if c["id"] not in right][:1]
                    answers.append({"question": question["id"], "choices": right if rng.random() < 0.8 else wrong})
                await pause()
                await recorder.call(
                    client,
                    "POST quiz submit",
                    "POST",
                    f"/api/v1/attempts/{body['id']}/submit/",
                    json={"answers": answers},
                )
            await pause()
            await recorder.call(anonymous, "GET verify", "GET", f"/api/v1/verify/{rng.choice(plan['codes'])}/")
            await pause()
            await recorder.call(anonymous, "GET trivial (/livez)", "GET", "/livez")


async def saturate(base: str, name: str, urls: list[str], users: int, seconds: float, recorder: Recorder) -> float:
    deadline = time.perf_counter() + seconds

    async def loop(n: int):
        async with session(base) as client:
            while time.perf_counter() < deadline:
                await recorder.call(client, name, "GET", urls[n % len(urls)])
                n += users

    started = time.perf_counter()
    await asyncio.gather(*(loop(n) for n in range(users)))
    return len(recorder.latencies[name]) / (time.perf_counter() - started)


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile of ``values`` in ms; NaN when there are none (every request failed)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))] * 1000


def error_count(*recorders: Recorder) -> int:
    """Every failed request, whether or not it got a response: counted from the errors, not the latencies."""
    return sum(len(messages) for recorder in recorders for messages in recorder.errors.values())


def report(recorder: Recorder, elapsed: float) -> int:
    """Print a row per endpoint, including those whose every request failed; returns the number of errors."""
    print(f"{'endpoint':24} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    # An endpoint that only ever failed to connect has errors but no latencies: list both kinds.
    names = list(recorder.latencies) + [name for name in recorder.errors if name not in recorder.latencies]
    for name in names:
        values = recorder.latencies.get(name, [])
        errors = len(recorder.errors.get(name, []))
        print(
            f"{name:24} {len(values) / elapsed:8.1f} {percentile(values, 50):8.1f} {percentile(values, 95):8.1f} "
            f"{percentile(values, 99):8.1f} {errors:7d}"
        )
    print_errors(recorder)
    return error_count(recorder)


def print_errors(recorder: Recorder) -> None:
    for name, messages in recorder.errors.items():
        for message in sorted(set(messages))[:3]:
            print(f"  error on {name}: {message}")


def summary(*recorders: Recorder) -> int:
    """Print the total of errors and return the exit status: 1 when any request failed."""
    failures = error_count(*recorders)
    print(f"errors: {failures}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--saturate", type=float, default=10, help="seconds for each saturation phase")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a participant's requests (s)")
    args = parser.parse_args()

    # Run as a script, bench/ is on sys.path; _setup puts the project there and sets Django up.
    from _setup import django_on_bench_database

    django_on_bench_database("gcio_bench_load")
    from assessments.models import Quiz
    from tests.processes import free_port, process_env, start_compose_service

    plan = prepare(args.users)
    port = free_port()
    logs = tempfile.mkdtemp(prefix="gcio-load-")
    static_root = os.path.join(logs, "static")
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "load-benchmark-secret-key-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORT": str(port),
        "STATIC_ROOT": static_root,
        "MEDIA_ROOT": os.path.join(logs, "media"),
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/13"),
        # Every virtual client shares 127.0.0.1: lift the per-client verification limit for the bench.
        "VERIFY_RATE_LIMIT": "1000000/minute",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=process_env(**env),
        check=True,
    )
    web = start_compose_service("web", Path(logs), "Booting worker", **env)
    # Every virtual participant retakes the first quiz in a loop: lift the attempt limit for the bench
    # (after the web command's loadcurriculum, which restores the curriculum's own limit).
    Quiz.objects.update(max_attempts=30000)
    base = f"http://127.0.0.1:{port}"
    try:
        time.sleep(2)  # let every gunicorn worker boot
        print(
            f"gunicorn (docker-compose web command) on {base}; {args.users} participants for {args.duration:.0f} s, "
            f"{args.think:.1f} s mean pause between a participant's requests"
        )
        recorder = Recorder()
        started = time.perf_counter()
        deadline = started + args.duration

        async def run_users():
            await asyncio.gather(
                *(
                    participant(base, token, plan, recorder, deadline, n, args.think)
                    for n, token in enumerate(plan["tokens"])
                )
            )

        asyncio.run(run_users())
        report(recorder, time.perf_counter() - started)

        solo = Recorder()
        trivial = asyncio.run(saturate(base, "trivial", ["/livez"], args.users, args.saturate, solo))
        verify_urls = [f"/api/v1/verify/{code}/" for code in plan["codes"]]
        verify = asyncio.run(saturate(base, "verify", verify_urls, args.users, args.saturate, solo))
        ratio = verify / trivial if trivial else float("nan")
        print(
            f"saturation, {args.users} clients, {args.saturate:.0f} s each: trivial {trivial:.1f} req/s, "
            f"verify {verify:.1f} req/s, ratio {ratio:.2f} (target >= 0.5); "
            f"p95 trivial {percentile(solo.latencies['trivial'], 95):.1f} ms, "
            f"verify {percentile(solo.latencies['verify'], 95):.1f} ms"
        )
        print_errors(solo)
        return summary(recorder, solo)
    finally:
        web.stop()


if __name__ == "__main__":
    sys.exit(main())
