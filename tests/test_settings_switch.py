"""config.settings reads the environment: SQLite/eager by default, PostgreSQL/Redis when configured."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG_VARS = {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "SITE_URL"}
CONFIG_VARS |= {"EMAIL_URL", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS"}

PROBE = """
import json, django
from django.conf import settings
django.setup()
from config.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER, "broker": app.conf.broker_url,
    "app_eager": app.conf.task_always_eager, "debug": settings.DEBUG,
    "tz": settings.TIME_ZONE, "lang": settings.LANGUAGE_CODE, "use_tz": settings.USE_TZ,
    "site_url": settings.SITE_URL,
    "email": [settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER,
              settings.EMAIL_USE_TLS],
}))
"""


def probe(**env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **env_vars)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_nothing_set_means_sqlite_in_the_project_folder_and_tasks_in_process():
    result = probe()
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "db.sqlite3")
    assert values["eager"] is True and values["app_eager"] is True
    assert values["broker"] == "memory://"
    assert values["tz"] == "Asia/Makassar" and values["use_tz"] is True
    assert values["lang"] == "id"


def test_database_and_broker_urls_switch_to_postgresql_and_redis():
    result = probe(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/3",
        SITE_URL="https://gcio.example.go.id/",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "test" and values["host"] == "127.0.0.1"
    assert values["eager"] is False and values["app_eager"] is False
    assert values["broker"] == "redis://127.0.0.1:6379/3"
    assert values["site_url"] == "https://gcio.example.go.id"


def test_debug_off_refuses_to_start_without_secret_key():
    result = probe(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_off_starts_with_a_secret_key():
    result = probe(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["debug"] is False


@pytest.mark.integration
def test_configured_services_really_answer():
    """With the real URLs, Django reaches PostgreSQL and Celery reaches Redis."""
    code = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "from config.celery import app\n"
        "connection.ensure_connection(); print(connection.vendor)\n"
        "with app.connection_for_write() as c: c.ensure_connection(max_retries=1); print(c.transport_cls)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/3",
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["postgresql", "redis"]


@pytest.mark.parametrize(
    "env_vars, expected",
    [
        ({}, ["django.core.mail.backends.console.EmailBackend"]),
        (
            {"EMAIL_URL": "smtp+tls://kominfo:rahasia@mail.kaltimprov.go.id:587"},
            ["django.core.mail.backends.smtp.EmailBackend", "mail.kaltimprov.go.id", 587, "kominfo", True],
        ),
        (
            {
                "EMAIL_HOST": "mail.kaltimprov.go.id",
                "EMAIL_PORT": "587",
                "EMAIL_HOST_USER": "kominfo",
                "EMAIL_HOST_PASSWORD": "rahasia",
                "EMAIL_USE_TLS": "1",
            },
            ["django.core.mail.backends.smtp.EmailBackend", "mail.kaltimprov.go.id", 587, "kominfo", True],
        ),
    ],
)
def test_email_from_email_url_or_djangos_email_settings(env_vars, expected):
    result = probe(**env_vars)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["email"][: len(expected)] == expected
