"""The production configuration: a missing collectstatic stops the checks and gunicorn instead of answering
500; `check --deploy` is clean; pages carry the security headers, HSTS only behind a trusted proxy."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from config.checks import static_files_collected
from tests.processes import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COLLECTSTATIC_HINT = "Run `python manage.py collectstatic --noinput`"
MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
# A production environment: DEBUG off, a long random key, real hosts, HTTPS behind one reverse proxy.
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "q8Zt3Lw-Jx0vNfR2sKd7YbHc5GmUa9PeTo1XiWl4VrQn6EjBzCyDgFhSpMkA_u",
    "ALLOWED_HOSTS": "gcio.example.go.id,127.0.0.1",
    "SITE_URL": "https://gcio.example.go.id",
    "NUM_PROXIES": "1",
    # Shared by every web process, as the sign-in limit needs (a deployment with in-process memory is warned).
    "CACHE_URL": "redis://127.0.0.1:6379/14",
}
SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}
POLICY = (
    "base-uri 'none'; default-src 'self'; form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; "
    "object-src 'none'; script-src 'self'; style-src 'self'"
)


def sorted_policy(header: str) -> str:
    return "; ".join(sorted(part.strip() for part in header.split(";")))


def production_env(tmp: Path, **overrides: str) -> dict[str, str]:
    """The process environment of a deployment: nothing of the test run's own configuration leaks in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO", "SECURE_", "CELERY", "CACHE"))
        and key not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "NUM_PROXIES"}
    }
    env.update(
        PRODUCTION,
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        MEDIA_ROOT=str(tmp / "media"),
        STATIC_ROOT=str(tmp / "static"),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """STATIC_ROOT after `collectstatic --noinput` with the production settings."""
    tmp = tmp_path_factory.mktemp("deploy")
    result = manage(production_env(tmp), "collectstatic", "--noinput", "-v0")
    assert result.returncode == 0, result.stderr
    return tmp / "static"


def test_the_check_names_collectstatic_when_the_manifest_is_missing(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    settings.STATIC_ROOT = str(tmp_path)
    (error,) = static_files_collected()
    assert error.id == "config.E001"
    assert error.level == 40  # ERROR
    assert "finds no staticfiles.json" in error.msg and str(tmp_path) in error.msg
    assert error.hint == f"{COLLECTSTATIC_HINT} (with the same settings) before starting the web server."


def test_the_check_passes_once_collected_and_names_files_a_stale_manifest_lacks(settings, collected, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    settings.STATIC_ROOT = str(collected)
    assert static_files_collected() == []

    manifest = json.loads((collected / "staticfiles.json").read_text())
    del manifest["paths"]["courses/site.js"]  # as if collected before the file existed
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    settings.STATIC_ROOT = str(tmp_path)
    (error,) = static_files_collected()
    assert error.id == "config.E002"
    assert "lacks courses/site.js," in error.msg
    assert error.hint.startswith(f"{COLLECTSTATIC_HINT} again")


def test_the_check_is_silent_for_the_storage_that_reads_the_apps_files(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path)  # nothing collected; the test settings' StaticFilesStorage needs nothing
    assert static_files_collected() == []
    call_command("check", fail_level="ERROR")  # the project's other checks pass too


def test_check_deploy_with_the_production_environment_is_clean(collected):
    result = manage(production_env(collected.parent), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    # The one silenced check is security.W021 (HSTS preload), off unless SECURE_HSTS_PRELOAD is set.
    assert (result.stdout, result.stderr) == ("System check identified no issues (1 silenced).\n", "")


def test_check_deploy_with_hsts_preload_on_silences_nothing(collected):
    env = production_env(collected.parent, SECURE_HSTS_PRELOAD="1")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert (result.returncode, result.stdout) == (0, "System check identified no issues (0 silenced).\n")


@pytest.mark.parametrize("command", [["check"], ["check", "--deploy"], ["migrate", "--noinput"]])
def test_commands_refuse_static_files_never_collected(tmp_path, command):
    result = manage(production_env(tmp_path), *command)
    assert result.returncode == 1
    assert "(config.E001) The static files have not been collected" in result.stderr
    assert COLLECTSTATIC_HINT in result.stderr
    assert "Applying" not in result.stdout  # migrate stopped before migrating anything


class Gunicorn:
    """gunicorn with the deployment's command line, on a free port, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
                + ["--workers", "1", "--access-logfile", "-"],
                cwd=ROOT,
                env={**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@pytest.mark.integration
def test_gunicorn_refuses_to_start_without_collected_static_files(tmp_path):
    server = Gunicorn(production_env(tmp_path), tmp_path / "gunicorn.log")
    try:
        returncode = server.proc.wait(timeout=90)
    finally:
        server.stop()
    assert returncode != 0
    assert "(config.E001) The static files have not been collected" in server.output
    assert COLLECTSTATIC_HINT in server.output
    assert "Worker failed to boot" in server.output


@pytest.mark.integration
def test_gunicorn_serves_the_verification_page_with_the_security_headers(collected, tmp_path):
    server = Gunicorn(production_env(collected.parent), tmp_path / "gunicorn.log")
    base = f"http://127.0.0.1:{server.port}"
    host = {"Host": "gcio.example.go.id"}
    try:

        def answering() -> bool:
            if server.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{server.output}")
            try:
                return httpx.get(f"{base}/livez", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answering, timeout=60)
        # What the proxy forwards: the client came over HTTPS.
        page = httpx.get(f"{base}/verify/", headers={**host, "X-Forwarded-Proto": "https"}, timeout=10)
        assert page.status_code == 200
        assert {name: page.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
        assert sorted_policy(page.headers["content-security-policy"]) == POLICY
        assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        # The stylesheet is the collected, hashed file, and it is served.
        stylesheet = page.text.split('<link rel="stylesheet" href="', 1)[1].split('"', 1)[0]
        assert stylesheet.startswith("/static/courses/site.") and stylesheet != "/static/courses/site.css"
        assert httpx.get(f"{base}{stylesheet}", headers={**host, "X-Forwarded-Proto": "https"}).status_code == 200
        # Plain HTTP is sent to HTTPS, except the probes that poll from inside the network.
        plain = httpx.get(f"{base}/verify/", headers=host, timeout=10)
        assert (plain.status_code, plain.headers["location"]) == (301, "https://gcio.example.go.id/verify/")
        assert httpx.get(f"{base}/livez", headers=host, timeout=10).status_code == 200
    finally:
        server.stop()
    assert " 500 " not in server.output


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
response = Client().get("/livez", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER, "hsts_seconds": settings.SECURE_HSTS_SECONDS,
    "subdomains": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "preload": settings.SECURE_HSTS_PRELOAD,
    "redirect": settings.SECURE_SSL_REDIRECT, "status": response.status_code,
    "hsts": response.headers.get("Strict-Transport-Security"),
}))
"""


def probe(tmp_path: Path, **overrides: str) -> dict:
    env = production_env(tmp_path, ALLOWED_HOSTS="testserver", **overrides)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_behind_a_trusted_proxy_its_https_header_is_trusted_and_hsts_sent(tmp_path):
    assert probe(tmp_path) == {
        "proxy_header": ["HTTP_X_FORWARDED_PROTO", "https"],
        "hsts_seconds": 31536000,
        "subdomains": True,
        "preload": False,
        "redirect": True,
        "status": 200,
        "hsts": "max-age=31536000; includeSubDomains",
    }


def test_without_a_proxy_nobody_can_claim_https_with_a_header(tmp_path):
    values = probe(tmp_path, NUM_PROXIES="0", SITE_URL="http://gcio.example.go.id")
    assert (values["proxy_header"], values["redirect"], values["status"], values["hsts"]) == (None, False, 200, None)


def test_hsts_is_configured_from_the_environment(tmp_path):
    values = probe(tmp_path, SECURE_HSTS_SECONDS="600", SECURE_HSTS_INCLUDE_SUBDOMAINS="0", SECURE_HSTS_PRELOAD="1")
    assert (values["hsts_seconds"], values["subdomains"], values["preload"]) == (600, False, True)
    assert values["hsts"] == "max-age=600; preload"


def test_local_development_sends_no_hsts(tmp_path):
    values = probe(tmp_path, DEBUG="1", NUM_PROXIES="0", SITE_URL="http://127.0.0.1:8000")
    assert (values["hsts_seconds"], values["redirect"], values["hsts"]) == (0, False, None)


def test_the_repositorys_deployment_commands_collect_static_files_first():
    """docker-compose.yml's web command (which the full-stack test runs) and the README's run collectstatic
    before anything that runs the checks."""
    from tests.processes import compose_command

    web = compose_command("web")
    assert web.index("python manage.py collectstatic --noinput") < web.index("python manage.py migrate")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running the full stack", 1)[1]
    assert section.index("python manage.py collectstatic --noinput") < section.index("gunicorn config.wsgi")
