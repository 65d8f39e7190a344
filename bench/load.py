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

from _setup import ROOT, django_on_bench_database

django_on_bench_database("gcio_bench_load")

import aiohttp  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from assessments.models import Choice, Quiz  # noqa: E402
from certificates.codes import code_display  # noqa: E402
from certificates.services import certificate_issue  # noqa: E402
from courses.models import Cohort, Course, Enrollment, ParticipantProfile  # noqa: E402
from tests.courses.enrolment_files import nip_for  # noqa: E402
from tests.processes import free_port, start_compose_service  # noqa: E402


def prepare(users: int) -> dict:
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
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))] * 1000


def report(recorder: Recorder, elapsed: float) -> int:
    print(f"{'endpoint':24} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    failures = 0
    for name, values in recorder.latencies.items():
        errors = len(recorder.errors.get(name, []))
        failures += errors
        print(
            f"{name:24} {len(values) / elapsed:8.1f} {percentile(values, 50):8.1f} {percentile(values, 95):8.1f} "
            f"{percentile(values, 99):8.1f} {errors:7d}"
        )
    for name, messages in recorder.errors.items():
        for message in sorted(set(messages))[:3]:
            print(f"  error on {name}: {message}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--saturate", type=float, default=10, help="seconds for each saturation phase")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a participant's requests (s)")
    args = parser.parse_args()

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
    from pathlib import Path

    from tests.processes import process_env

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
        failures = report(recorder, time.perf_counter() - started)

        solo = Recorder()
        trivial = asyncio.run(saturate(base, "trivial", ["/livez"], args.users, args.saturate, solo))
        verify_urls = [f"/api/v1/verify/{code}/" for code in plan["codes"]]
        verify = asyncio.run(saturate(base, "verify", verify_urls, args.users, args.saturate, solo))
        failures += sum(len(v) for v in solo.errors.values())
        print(
            f"saturation, {args.users} clients, {args.saturate:.0f} s each: trivial {trivial:.1f} req/s, "
            f"verify {verify:.1f} req/s, ratio {verify / trivial:.2f} (target >= 0.5); "
            f"p95 trivial {percentile(solo.latencies['trivial'], 95):.1f} ms, "
            f"verify {percentile(solo.latencies['verify'], 95):.1f} ms"
        )
        print(f"errors: {failures}")
        return 1 if failures else 0
    finally:
        web.stop()


if __name__ == "__main__":
    sys.exit(main())
