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
    # the host never imported the project package
    probe = run_host(tmp_path, "shell", "--no-imports", "-c", "import sys; print('config' in sys.modules)")
    assert probe.stdout.strip() == "False"


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
