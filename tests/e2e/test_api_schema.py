"""The served OpenAPI schema tells the truth: schemathesis fuzzes every operation against gunicorn (DEBUG off,
PostgreSQL) as anyone, a participant and an operator, and fails on a server error or a response the schema
does not describe."""

import datetime
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import override_settings
from rest_framework.authtoken.models import Token

from tests.processes import BIN, BROKER_URL, flush_broker, free_port, media_root, start_compose_service, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Each role's run: at most this many cases per operation and phase (about 1,200 cases a run, under a
# minute on two cores), a fixed seed, and a hard limit on its time.
MAX_EXAMPLES = 25
SEED = 20261101
RUN_TIMEOUT_SECONDS = 150
# Each run comes from its own client (gunicorn trusts one proxy here): the token endpoint is fuzzed,
# and its failures lock out the client that made them (courses.auth_limits) but not the next run's.
CLIENTS = {"anonymous": "203.0.113.10", "participant": "203.0.113.20", "operator": "203.0.113.30"}


@dataclass
class Seeded:
    """What the runs point path parameters at, besides what they generate themselves."""

    tokens: dict[str, str] = field(default_factory=dict)
    dictionaries: dict[str, list] = field(default_factory=dict)


def _answer_key(attempt) -> list[dict]:
    """The right answers to the questions the attempt drew from its quiz's bank."""
    return [
        {"question": q.pk, "choices": [c.pk for c in q.choices.all() if c.is_correct]}
        for q in attempt.quiz.questions.filter(pk__in=attempt.question_order)
    ]


def seed(*, media: Path) -> Seeded:
    """The curriculum, a cohort of participants, a participant and an operator with tokens, a completed
    enrolment with its issued certificate (PDF stored where gunicorn reads it), an open attempt, an archive."""
    from assessments.models import Attempt, Quiz
    from assessments.services import attempt_start, attempt_submit
    from certificates.codes import code_display
    from certificates.models import Certificate
    from certificates.services import archive_request
    from courses.models import Course, Lesson
    from courses.services import action_plan_submit, curriculum_load, lesson_complete
    from tests.factories import CohortFactory, EnrollmentFactory, ParticipantProfileFactory, UserFactory

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, CELERY_TASK_ALWAYS_EAGER=True):
        curriculum_load(slug="gcio")
        course = Course.objects.get(slug="gcio")
        cohort = CohortFactory(course=course, name="Angkatan Uji Skema")
        participant = ParticipantProfileFactory(nip="198503302010011002", full_name="Siti Rahmawati")
        enrollment = EnrollmentFactory(cohort=cohort, participant=participant)
        EnrollmentFactory.create_batch(3, cohort=cohort)
        operator = UserFactory(username="operator-schema")
        operator.groups.add(Group.objects.get(name="operators"))

        # The participant completes the course through the services; the eager task issues the certificate.
        for module in course.modules.order_by("order"):
            for lesson in module.lessons.all():
                lesson_complete(enrollment=enrollment, lesson=lesson)
            quiz = Quiz.objects.get(module=module)
            started = attempt_start(user=participant.user, quiz=quiz)
            attempt_submit(attempt=started.attempt, answers=_answer_key(started.attempt))
        action_plan_submit(
            enrollment=enrollment,
            change="Menyatukan antrean aplikasi dan loket di lima puskesmas.",
            lead="Kepala Bidang Pelayanan Kesehatan bersama kepala puskesmas.",
            due_on=datetime.date(2027, 6, 30),
            indicator="Waktu tunggu turun 30 persen dari kondisi awal bulan pertama.",
        )
        first_quiz = Quiz.objects.filter(module__course=course).order_by("module__order").first()
        attempt_start(user=participant.user, quiz=first_quiz)  # one open attempt, to save answers to
        certificate = Certificate.objects.get(enrollment=enrollment)
        assert certificate.sha256, "the certificate's PDF was not rendered"
        archive = archive_request(cohort=cohort, by=operator)

    tokens = {
        "participant": Token.objects.create(user=participant.user).key,
        "operator": Token.objects.create(user=operator).key,
    }
    dictionaries = {
        "lessons": list(Lesson.objects.filter(module__course=course).values_list("pk", flat=True)),
        "quizzes": list(Quiz.objects.filter(module__course=course).values_list("pk", flat=True)),
        "attempts": list(Attempt.objects.filter(enrollment=enrollment).values_list("pk", flat=True)),
        "cohorts": [cohort.pk],
        "enrollments": [enrollment.pk],
        "archives": [archive.pk],
        "codes": [code_display(certificate.code)],
        "courses": ["gcio"],
    }
    return Seeded(tokens=tokens, dictionaries=dictionaries)


# Path parameters drawn half the time from the seeded rows, so the runs reach real objects, not only 404s.
BINDINGS = [
    (r"^/api/v1/lessons/\{id\}/", "path.id", "lessons"),
    (r"^/api/v1/quizzes/\{id\}/", "path.id", "quizzes"),
    (r"^/api/v1/attempts/\{id\}/", "path.id", "attempts"),
    (r"^/api/v1/cohorts/\{id\}/", "path.id", "cohorts"),
    (r"^/api/v1/enrollments/\{id\}/", "path.id", "enrollments"),
    (r"^/api/v1/certificate-archives/\{id\}/", "path.id", "archives"),
    (r"^/api/v1/(certificates|verify)/\{code\}/", "path.code", "codes"),
    (r"^/api/v1/courses/\{slug\}/", "path.slug", "courses"),
]
# Where a request the schema allows may still be refused with 400 for what no schema can say: credentials
# that match no account, a cohort name already taken or dates in the wrong order, a file's rows, question
# and choice ids that are not the attempt's, an action plan's text that is only spaces. Everywhere else a schema-valid request must not get 400.
SEMANTIC_400 = [
    ("POST", r"^/api/v1/auth/token/$"),
    ("POST", r"^/api/v1/cohorts/$"),
    ("POST", r"^/api/v1/cohorts/\{id\}/enrollments/import/$"),
    ("PUT", r"^/api/v1/attempts/\{id\}/answers/$"),
    ("POST", r"^/api/v1/attempts/\{id\}/submit/$"),
    # Text of the right length that is only spaces: trimmed, it is too short.
    ("PUT", r"^/api/v1/enrollments/\{id\}/action-plan/$"),
]
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def _toml_value(value) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def config_toml(seeded: Seeded) -> str:
    """schemathesis.toml for the runs: generation settings, the seeded values and which parameters use them."""
    lines = [
        f"seed = {SEED}",
        "workers = 1",
        "",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        'database = "none"',
        # A NUL anywhere in a request is refused with 400 before any view runs (courses.middleware,
        # tests/test_null_characters.py); the schema declares that 400, it cannot spell NUL out of every string.
        "allow-x00 = false",
        "",
        # Nothing learnt in one run carries into the next (nor into the repository).
        "[cache]",
        "enabled = false",
        "",
    ]
    for name, values in seeded.dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = [{', '.join(_toml_value(v) for v in values)}]", ""]
    for pattern, parameter, dictionary in BINDINGS:
        lines += [
            "[[operations]]",
            f"include-path-regex = '{pattern}'",
            f'parameters = {{ "{parameter}" = {{ dictionary = "{dictionary}", probability = 0.5 }} }}',
            "",
        ]
    statuses = ", ".join(f'"{s}"' for s in [*POSITIVE_STATUSES, "400"])
    for method, pattern in SEMANTIC_400:
        lines += [
            "[[operations]]",
            f'include-method = "{method}"',
            f"include-path-regex = '{pattern}'",
            f"checks.positive_data_acceptance.expected-statuses = [{statuses}]",
            "",
        ]
    return "\n".join(lines)


@pytest.fixture
def served(tmp_path):
    """gunicorn as docker-compose.yml starts it (DEBUG off, PostgreSQL), over the seeded test database."""
    if connection.vendor != "postgresql":
        pytest.skip("the schema runs are against PostgreSQL")
    flush_broker()
    seeded = seed(media=media_root(tmp_path))
    port = free_port()
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "api-schema-test-secret-key-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        # Tasks (issuing a reissued certificate, building an archive) run inside the request.
        "CELERY_BROKER_URL": "",
        # Failed sign-ins count in Redis for both gunicorn workers, as in a deployment.
        "CACHE_URL": BROKER_URL,
        # The runs' X-Forwarded-For names their client (see CLIENTS).
        "NUM_PROXIES": "1",
        # Hundreds of lookups a minute from one client; the limit itself is tested in tests/certificates.
        "VERIFY_RATE_LIMIT": "100000/minute",
    }
    web = start_compose_service("web", tmp_path, "Booting worker", **env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(base), timeout=60)
        yield base, seeded
    finally:
        web.stop()
        flush_broker()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def run_schemathesis(*, base: str, config: Path, role: str, token: str | None, cwd: Path) -> tuple[int, str]:
    """One schemathesis run over the served schema with every check; its exit code and output."""
    args = [
        str(BIN / "schemathesis"), "--config-file", str(config), "run", f"{base}/api/v1/schema/",
        "--checks", "all", "--no-color", "--header", f"X-Forwarded-For: {CLIENTS[role]}",
    ]  # fmt: skip
    if token:
        args += ["--header", f"Authorization: Token {token}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO", "DATABASE", "CELERY"))}
    started = time.monotonic()
    try:
        done = subprocess.run(
            args, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return -1, f"{output}\n[{role}] timed out after {RUN_TIMEOUT_SECONDS}s"
    return done.returncode, f"{done.stdout}{done.stderr}\n[{role}] {time.monotonic() - started:.0f}s"


def _summary(output: str) -> str:
    marker = output.find("= SUMMARY =")
    return output[output.rfind("\n", 0, marker) + 1 :] if marker >= 0 else output[-4000:]


def test_the_served_schema_tells_the_truth_to_anyone_participants_and_operators(served, tmp_path):
    base, seeded = served
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_toml(seeded), encoding="utf-8")
    failed = []
    # Operators last: they revoke and re-issue the certificate the participant's run reads.
    for role in ("anonymous", "participant", "operator"):
        code, output = run_schemathesis(
            base=base, config=config, role=role, token=seeded.tokens.get(role), cwd=tmp_path
        )
        (tmp_path / f"schemathesis-{role}.txt").write_text(output, encoding="utf-8")
        print(f"===== schemathesis as {role}: exit {code}\n{_summary(output)}")
        if code != 0:
            failed.append(role)
            print(output[-30_000:])
    assert not failed, f"schemathesis found responses the schema does not describe, as: {', '.join(failed)}"
