"""Shared set-up for the benchmarks: a throw-away PostgreSQL database, migrated, with Django ready."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))


def django_on_bench_database(name: str) -> None:
    """Point Django at a fresh database ``name`` on BENCH_POSTGRES (default: local server) and migrate it."""
    import psycopg

    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Measure as deployed: with DEBUG on, Django records every query and that costs real time.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    os.environ.setdefault("CELERY_BROKER_URL", "")
    import django

    # Celery puts the working directory on sys.path; from bench/ it would shadow the apps
    # (bench/certificates.py versus the certificates app).
    os.chdir(ROOT)
    if str(ROOT / "bench") in sys.path:
        sys.path.remove(str(ROOT / "bench"))
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
