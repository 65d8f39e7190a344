"""Shared fixtures."""

import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from rest_framework.test import APIClient

from courses.conf import courses_setting
from tests.factories import UserFactory


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist with ``--dist loadgroup``, every test that talks to the real services (Celery
    workers, gunicorn, beat, Redis, a browser) runs on one worker, one at a time: they share the
    broker's queue and the machine's ports. (``make test`` runs them in a phase of their own.)"""
    for item in items:
        if item.get_closest_marker("integration") or item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group("services"))


@pytest.fixture(autouse=True)
def _empty_caches():
    """Counters kept in the cache (sign-in failures, throttles, reset emails) never carry over between tests."""
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def operator():
    """The operator of every test: in the operators group (synced after migrate, with its permissions),
    and staff, so the admin lets them in as well."""
    user = UserFactory(username="operator-test", first_name="Rina", last_name="Operator", is_staff=True)
    user.groups.add(Group.objects.get(name=courses_setting("OPERATORS_GROUP")))
    return user


@pytest.fixture
def gcio_copy(tmp_path: Path) -> Path:
    """A copy of the GCIO curriculum's files to change."""
    target = tmp_path / "gcio"
    shutil.copytree(Path(courses_setting("CURRICULUM_DIR")) / "gcio", target)
    return target
