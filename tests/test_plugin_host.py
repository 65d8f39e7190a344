"""Each app is pluggable: a host installing only them and their declared needs passes check and migrate."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_host(tmp_path: Path, *args: str, **host_env: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY"}
    }
    env.update(DJANGO_SETTINGS_MODULE="tests.plugin_host.settings", PLUGIN_HOST_DB=str(tmp_path / "host.sqlite3"))
    env.update(host_env)
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


def shell(tmp_path: Path, code: str, **host_env: str) -> list[str]:
    result = run_host(tmp_path, "shell", "--no-imports", "-c", code, **host_env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_a_host_with_courses_alone_checks_migrates_loads_and_answers(tmp_path):
    alone = {"PLUGIN_HOST_APPS": "courses"}
    check = run_host(tmp_path, "check", "--fail-level", "WARNING", **alone)
    assert check.returncode == 0, check.stdout + check.stderr
    migrate = run_host(tmp_path, "migrate", "--noinput", **alone)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    load = run_host(tmp_path, "loadcurriculum", **alone)
    assert load.returncode == 0 and "Curriculum 'gcio' loaded." in load.stdout, load.stdout + load.stderr
    answers = shell(
        tmp_path,
        "import sys; from django.contrib.auth.models import Group, User; from django.test import Client; "
        "from rest_framework.test import APIClient; from courses.models import Cohort, Course; "
        "op = User.objects.create(username='op'); op.groups.add(Group.objects.get(name='operators')); "
        "cohort = Cohort.objects.create(course=Course.objects.get(slug='gcio'), name='A', starts_on='2026-01-01', "
        "ends_on='2026-02-01'); page = Client(); page.force_login(op); api = APIClient(); api.force_authenticate(op); "
        "print(Client().get('/').status_code, page.get(f'/operator/cohorts/{cohort.pk}/').status_code, "
        "page.get(f'/operator/cohorts/{cohort.pk}/progress/').status_code, api.get('/api/v1/courses/gcio/').status_code, "
        "b''.join(api.get(f'/api/v1/cohorts/{cohort.pk}/progress/?format=csv').streaming_content).decode().splitlines()[0].endswith("
        "',completed_at'), any(name.startswith(('certificates', 'assessments')) for name in sys.modules))",
        **alone,
    )
    assert answers == ["200", "200", "200", "200", "True", "False"]


def test_a_host_naming_its_own_operators_group_gets_it_with_the_permissions(tmp_path):
    own = {"PLUGIN_HOST_OPERATORS_GROUP": "pengelola"}
    migrate = run_host(tmp_path, "migrate", "--noinput", **own)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    code = (
        "from django.contrib.auth.models import Group, User; from courses.selectors import user_is_operator; "
        "group = Group.objects.get(name='pengelola'); user = User.objects.create(username='rina'); "
        "before = user_is_operator(user); user.groups.add(group); user = User.objects.get(pk=user.pk); "
        "print(sorted(Group.objects.values_list('name', flat=True)), group.permissions.filter(codename__in=["
        "'add_cohort', 'change_enrollment', 'view_attempt', 'add_attemptallowance']).count(), "
        "group.permissions.count(), before, user_is_operator(user), user.has_perm('courses.add_cohort'))"
    )
    assert shell(tmp_path, code, **own) == ["['pengelola']", "4", "25", "False", "True", "True"]
    # Idempotent: a second migrate adds nothing and keeps what an administrator granted.
    assert run_host(tmp_path, "migrate", "--noinput", **own).returncode == 0
    assert shell(
        tmp_path,
        "from django.contrib.auth.models import Group; print(Group.objects.get(name='pengelola').permissions.count())",
        **own,
    ) == ["25"]


def test_a_host_missing_a_periodic_task_is_warned_by_the_check(tmp_path):
    host = tmp_path / "forgetful_host.py"
    host.write_text(
        "from tests.plugin_host.settings import *  # noqa\n"
        "# Keys renamed (only the task names count), and the upload purge left out.\n"
        "CELERY_BEAT_SCHEDULE = {f'host-{key}': entry for key, entry in CELERY_BEAT_SCHEDULE.items()\n"
        "                        if entry['task'] != 'courses.tasks.enrollment_uploads_purge_task'}\n",
        encoding="utf-8",
    )
    result = run_host(
        tmp_path, "check", DJANGO_SETTINGS_MODULE="forgetful_host", PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}"
    )
    assert result.returncode == 0, result.stderr  # a warning, not an error
    output = result.stdout + result.stderr
    assert output.count("courses.W002") == 1
    assert (
        "(courses.W002) The periodic task 'courses.tasks.enrollment_uploads_purge_task' of 'courses' is not in "
        "CELERY_BEAT_SCHEDULE, so Celery beat never runs it." in output
    )
    assert "HINT: Add courses.conf.BEAT_SCHEDULE['courses-enrollment-uploads-purge']" in output
