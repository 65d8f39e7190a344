"""The whole platform on the processes a deployment runs: gunicorn, a Celery worker and Celery beat,
started with docker-compose.yml's own commands against PostgreSQL and Redis, driven over HTTP by a
cohort of 50 participants until all 50 certificates verify."""

import io
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.authtoken.models import Token

from tests.courses.enrollment_files import csv_bytes, person
from tests.factories import ACTION_PLAN
from tests.processes import flush_broker, free_port, start_compose_service, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PARTICIPANTS = 50


@pytest.fixture
def stack(tmp_path):
    """gunicorn, worker and beat as separate processes, exactly as docker-compose.yml starts them."""
    if connection.vendor != "postgresql":
        pytest.skip("the full stack runs on PostgreSQL")
    flush_broker()
    port = free_port()
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "full-stack-test-secret-key-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "PORT": str(port),
        "CERTIFICATES_SWEEP_GRACE_SECONDS": "5",
        # This test verifies 100 times from one address within a minute; the limit itself is tested
        # in tests/certificates/test_using.py.
        "VERIFY_RATE_LIMIT": "1000/minute",
    }
    # The web command collects the static files (into this test's STATIC_ROOT) before it migrates and
    # starts gunicorn, which refuses to start without them.
    processes = [
        start_compose_service("worker", tmp_path, "ready.", **env),
        start_compose_service("beat", tmp_path, "beat: Starting", **env),
        start_compose_service("web", tmp_path, "Booting worker", **env),
    ]
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _healthy(base), timeout=60)
    yield base
    for process in processes:
        process.stop()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).json() == {"database": "ok", "broker": "ok"}
    except httpx.HTTPError:
        return False


def _token(username: str) -> str:
    # API tokens stand in for the password step: the test settings' fast password hasher is not one
    # the deployed processes accept (logging in with NIP and password is the browser journey's part).
    return Token.objects.get_or_create(user=get_user_model().objects.get(username=username))[0].key


def _participant_journey(base: str, nip: str, tokens: dict[str, str], answer_key: dict[int, set[int]]) -> str:
    """Everything a participant does over HTTP, module by module; returns their verification URL."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.headers["Authorization"] = f"Token {tokens[nip]}"
        (enrollment,) = client.get("/api/v1/me/enrollments/").json()
        assert enrollment["progress_percent"] == 0
        course = client.get(f"/api/v1/courses/{enrollment['course']['slug']}/").json()
        for module in course["modules"]:
            for lesson in module["lessons"]:
                assert client.get(f"/api/v1/lessons/{lesson['id']}/").status_code == 200
                assert client.post(f"/api/v1/lessons/{lesson['id']}/complete/").status_code == 200
            attempt = client.post(f"/api/v1/quizzes/{module['quiz']['id']}/attempts/")
            assert attempt.status_code == 201, attempt.text
            answers = [
                {"question": q["id"], "choices": sorted(answer_key[q["id"]])} for q in attempt.json()["questions"]
            ]
            result = client.post(f"/api/v1/attempts/{attempt.json()['id']}/submit/", json={"answers": answers})
            assert result.status_code == 200, result.text
            assert result.json()["passed"] is True and result.json()["score_percent"] == 100
        # Every module done, the action plan still missing: not completed yet.
        (enrollment,) = client.get("/api/v1/me/enrollments/").json()
        assert enrollment["completed_at"] is None and enrollment["progress_percent"] == 99
        assert enrollment["action_plan"] == {"required": True, "submitted_at": None}
        plan = client.put(f"/api/v1/enrollments/{enrollment['id']}/action-plan/", json=ACTION_PLAN)
        assert plan.status_code == 200, plan.text
        (enrollment,) = client.get("/api/v1/me/enrollments/").json()
        assert enrollment["progress_percent"] == 100 and enrollment["completed_at"]
        assert enrollment["action_plan"]["submitted_at"] == plan.json()["submitted_at"]

        def certificate():
            items = client.get("/api/v1/me/certificates/").json()
            return items[0] if items else None

        issued = wait_until(certificate, timeout=60, interval=0.5)
        pdf_url = issued["pdf_url"].replace(issued["pdf_url"].split("/api/")[0], base)

        def sealed_pdf():
            # 409 pdf_pending (the contract's answer) while the worker renders and seals it.
            response = client.get(pdf_url)
            assert response.status_code in (200, 409), response.text
            return response if response.status_code == 200 else None

        pdf = wait_until(sealed_pdf, timeout=60, interval=0.5)
        assert pdf.content.startswith(b"%PDF")
        return issued["verify_url"]


def test_a_cohort_of_50_goes_from_spreadsheet_to_verified_certificates(stack):
    base = stack
    get_user_model().objects.create_user("operator-fs").groups.add(Group.objects.get(name="operators"))
    with httpx.Client(base_url=base, timeout=60) as operator:
        operator.headers["Authorization"] = f"Token {_token('operator-fs')}"
        cohort = operator.post(
            "/api/v1/cohorts/",
            json={"name": "Angkatan Uji", "course": "gcio", "starts_on": "2026-11-01", "ends_on": "2026-12-20"},
        )
        assert cohort.status_code == 201, cohort.text
        cohort_id = cohort.json()["id"]
        rows = [person(n) for n in range(PARTICIPANTS)]
        upload = {"file": ("peserta.csv", io.BytesIO(csv_bytes(rows, delimiter=";")), "text/csv")}
        imported = operator.post(f"/api/v1/cohorts/{cohort_id}/enrollments/import/", files=upload)
        assert imported.status_code == 200, imported.text
        assert imported.json()["created"] == PARTICIPANTS

        # The answer key, as an operator sees it when reviewing a quiz.
        course = operator.get("/api/v1/courses/gcio/").json()
        answer_key: dict[int, set[int]] = {}
        for module in course["modules"]:
            quiz = operator.get(f"/api/v1/quizzes/{module['quiz']['id']}/").json()
            for question in quiz["questions"]:
                answer_key[question["id"]] = {c["id"] for c in question["choices"] if c["is_correct"]}

    tokens = {row["nip"]: _token(row["nip"]) for row in rows}
    with ThreadPoolExecutor(max_workers=10) as pool:
        verify_urls = list(pool.map(lambda row: _participant_journey(base, row["nip"], tokens, answer_key), rows))

    assert len(set(verify_urls)) == PARTICIPANTS
    with httpx.Client(timeout=30) as anyone:
        for url in verify_urls:
            code = url.rstrip("/").rsplit("/", 1)[1]
            body = anyone.get(f"{base}/api/v1/verify/{code}/").json()
            assert body["valid"] is True and body["status"] == "valid"
            page = anyone.get(url)
            assert page.status_code == 200 and "Sertifikat sah" in page.text

    with httpx.Client(base_url=base, timeout=60) as operator:
        operator.headers["Authorization"] = f"Token {_token('operator-fs')}"
        progress = operator.get(f"/api/v1/cohorts/{cohort_id}/progress/").json()
    assert len(progress) == PARTICIPANTS
    assert all(row["progress_percent"] == 100 and row["certificate_number"] for row in progress)
    numbers = sorted(int(row["certificate_number"].rsplit("/", 1)[1]) for row in progress)
    assert numbers == list(range(1, PARTICIPANTS + 1))  # gap-free
