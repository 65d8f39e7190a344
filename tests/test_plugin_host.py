"""Each app is pluggable: a host installing only them and their declared needs passes check and migrate."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_host(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY"}
    }
    env.update(DJANGO_SETTINGS_MODULE="tests.plugin_host.settings", PLUGIN_HOST_DB=str(tmp_path / "host.sqlite3"))
    return subprocess.run(
        [sys.executable, "-m", "django", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_host_installs_only_the_apps_and_their_declared_needs(tmp_path):
    result = run_host(
        tmp_path, "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.INSTALLED_APPS)"
    )
    assert result.returncode == 0, result.stderr
    installed = eval(result.stdout.strip())  # noqa: S307 - our own subprocess printing a list
    assert "config" not in " ".join(installed)
    assert "django.contrib.admin" not in installed
    assert installed[-3:] == ["courses", "assessments", "certificates"]


def test_host_passes_check_and_migrate_and_loads_the_curriculum(tmp_path):
    check = run_host(tmp_path, "check", "--fail-level", "WARNING")
    assert check.returncode == 0, check.stdout + check.stderr
    migrate = run_host(tmp_path, "migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    load = run_host(tmp_path, "loadcurriculum")
    assert load.returncode == 0, load.stdout + load.stderr
    assert "Curriculum 'gcio' loaded." in load.stdout
    # The host serves every app's pages and API (which imports all their views and templates) and
    # never imports the project package.
    probe = run_host(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        "import sys; from django.test import Client; from django.urls import get_resolver; "
        "get_resolver().url_patterns; client = Client(); "
        "print(client.get('/verify/').status_code, client.get('/api/v1/verify/0000-0000-0000/').status_code, "
        "client.get('/api/v1/courses/').status_code, client.get('/api/v1/quizzes/1/').status_code, "
        "'config' in sys.modules)",
    )
    assert probe.returncode == 0, probe.stderr
    page, verify, courses, quiz, config_imported = probe.stdout.split()
    # Anonymous API calls are refused whatever authentication the host configures (401 or 403).
    assert (page, verify, config_imported) == ("200", "404", "False")
    assert courses in {"401", "403"} and quiz in {"401", "403"}


def test_missing_declared_dependency_fails_the_check(tmp_path):
    env_settings = tmp_path / "broken_host.py"
    env_settings.write_text(
        "from tests.plugin_host.settings import *  # noqa\n"
        "INSTALLED_APPS = [a for a in INSTALLED_APPS if a != 'rest_framework.authtoken']\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="broken_host",
        PLUGIN_HOST_DB=str(tmp_path / "b.sqlite3"),
        PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}",
    )
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "'courses' needs 'rest_framework.authtoken' in INSTALLED_APPS." in result.stderr
